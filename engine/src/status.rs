//! The status a person reads (`kubectl get bas -o yaml`), with the seed CRD's names:
//! `desiredScale`, `actualScale` (the target's real count, not the decision's),
//! `lastScaleTime`, `conditions` (AbleToScale, ScalingActive, ScalingLimited from the
//! decision, each with the time it last changed), `scalingHistory` (the last
//! [`HISTORY`] changes, applied or failed) and, for BudScaler, `predictionStatus`.
//! Pure: a driver passes the time (Unix µs) and whether it applied the decision.

use crate::decision::{Condition, Decision};
use crate::time::Micros;
use serde::{Deserialize, Serialize};

/// Scaling events kept in the status.
pub const HISTORY: usize = 10;

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ScalerStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desired_scale: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_scale: Option<i32>,
    /// RFC 3339, UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_scale_time: Option<String>,
    #[serde(default)]
    pub conditions: Vec<StatusCondition>,
    /// Oldest first.
    #[serde(default)]
    pub scaling_history: Vec<ScalingRecord>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prediction_status: Option<PredictionStatus>,
    /// What BudScaler has learned ([`learning_status`]) and when a driver last saved it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub learning_status: Option<LearningStatus>,
    /// What the fleet costs ([`cost_status`]): with `costConfig.enabled` and prices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cost_status: Option<CostStatus>,
    /// What the GPUs read ([`gpu_status`]): with `gpuConfig.enabled` and GPU samples.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "gpuStatus")]
    pub gpu_status: Option<GpuStatus>,
}

/// The fleet's GPUs as the `gpuConfig` rules read them, with the seed's names.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct GpuStatus {
    /// Percent, mean over ready replicas of the memory rule's reading (KV-cache use
    /// where the engine reports it, else the fullest GPU's framebuffer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average_memory_utilization: Option<f64>,
    /// Percent, mean over ready replicas of the busiest GPU's tensor-pipe activity
    /// (else power ÷ power limit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average_compute_utilization: Option<f64>,
    /// Percent, `DCGM_FI_DEV_GPU_UTIL` averaged over every GPU read (shown, not scaled
    /// on: it is near 100 whenever a batch runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average_gpu_utilization: Option<f64>,
    /// GPUs (and MIG instances) reporting, over the pods not being deleted.
    #[serde(rename = "totalGPUs")]
    pub total_gpus: i32,
    /// The `modelName` most GPUs report.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "gpuType")]
    pub gpu_type: Option<String>,
}

/// The GPU status at `obs` for a scaler whose manifest is `spec`: `None` unless
/// `gpuConfig.enabled`.
pub fn gpu_status(spec: &crate::spec::ResolvedSpec, obs: &crate::Observation) -> Option<GpuStatus> {
    if !spec.gpu.enabled {
        return None;
    }
    let readings = crate::budscaler::gpu::read(&spec.gpu, obs);
    let devices = obs
        .pods
        .iter()
        .filter(|p| !p.deleting)
        .filter_map(|p| obs.gpu.get(&p.name))
        .flat_map(|g| g.devices.iter());
    let mut models: std::collections::BTreeMap<&str, i32> = std::collections::BTreeMap::new();
    let (mut total, mut util_sum, mut util_n) = (0, 0.0, 0);
    for device in devices {
        total += 1;
        if let Some(model) = &device.model {
            *models.entry(model).or_default() += 1;
        }
        if let Some(u) = device.utilization_percent {
            util_sum += u;
            util_n += 1;
        }
    }
    let gpu_type = models
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(model, _)| model.to_string());
    Some(GpuStatus {
        average_memory_utilization: readings.memory.map(|p| p.mean * 100.0),
        average_compute_utilization: readings.compute.map(|p| p.mean * 100.0),
        average_gpu_utilization: (util_n > 0).then(|| util_sum / f64::from(util_n)),
        total_gpus: total,
        gpu_type,
    })
}

/// What the fleet costs, with the seed's names; currency as the prices.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CostStatus {
    /// The pods not being deleted, each at its on-demand or spot replica-hour price.
    pub current_hourly_cost: f64,
    /// Spend of the last 23 hours plus one more hour at the current cost: what the
    /// daily budget is checked against.
    pub projected_daily_cost: f64,
    /// The larger of current ÷ `budgetPerHour` and projected ÷ `budgetPerDay`, 0..
    /// (above 1 when `minReplicas` costs more than the budget); absent without a
    /// budget.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_utilization: Option<f64>,
    pub spot_instances_in_use: i32,
    pub on_demand_instances_in_use: i32,
}

/// The cost status at `obs` for a scaler whose manifest is `spec` and whose state is
/// `state`: `None` unless `costConfig.enabled` and the driver reports prices.
pub fn cost_status(
    spec: &crate::spec::ResolvedSpec,
    state: &crate::ScalerState,
    obs: &crate::Observation,
) -> Option<CostStatus> {
    let cost = obs.cost.as_ref().filter(|_| spec.cost.enabled)?;
    let billed = obs.pods.iter().filter(|p| !p.deleting);
    let spot = billed.clone().filter(|p| p.spot).count() as i32;
    let on_demand = billed.count() as i32 - spot;
    let current = f64::from(on_demand) * cost.on_demand_per_replica_hour
        + f64::from(spot) * cost.spot_per_replica_hour;
    let spent_23h = match state {
        crate::ScalerState::BudScaler { bud, .. } => {
            let log = &bud.spend;
            log.spent_over(obs.now, 23 * 3_600_000_000, log.total_for(cost.spent))
        }
        _ => 0.0,
    };
    let projected = spent_23h + current;
    let per_hour = spec.cost.budget_per_hour_milli.map(|m| m as f64 / 1000.0);
    let per_day = spec.cost.budget_per_day_milli.map(|m| m as f64 / 1000.0);
    let ratio = |used: f64, budget: f64| {
        if budget > 0.0 {
            used / budget
        } else if used > 0.0 {
            f64::INFINITY
        } else {
            0.0
        }
    };
    let utilization = [
        per_hour.map(|b| ratio(current, b)),
        per_day.map(|b| ratio(projected, b)),
    ]
    .into_iter()
    .flatten()
    .reduce(f64::max)
    .map(|u| if u.is_finite() { u } else { f64::MAX });
    Some(CostStatus {
        current_hourly_cost: current,
        projected_daily_cost: projected,
        budget_utilization: utilization,
        spot_instances_in_use: spot,
        on_demand_instances_in_use: on_demand,
    })
}

/// What BudScaler has learned, as a person reads it: the seed's names (the accuracy of
/// the predictor the scaler currently trusts most), plus what the capacity rule and the
/// lookahead rest on.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct LearningStatus {
    /// Demand forecasts scored against what then happened (the best predictor's).
    pub data_points_collected: i64,
    /// 1 − recentMAPE, in 0..=1; absent before any forecast was scored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overall_accuracy: Option<f64>,
    /// Share of forecasts that called the direction (up, down, flat) right.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction_accuracy: Option<f64>,
    /// Recent mean absolute percentage error, 0–1 (and beyond for wild misses).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        rename = "recentMAPE"
    )]
    pub recent_mape: Option<f64>,
    /// Recent mean absolute error, in the demand's units (work per second).
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "recentMAE")]
    pub recent_mae: Option<f64>,
    /// Every hour of the week has seasonal data.
    pub seasonal_data_complete: bool,
    /// The traffic pattern of the last decision, and its confidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detected_pattern: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern_confidence: Option<f64>,
    /// The best predictor is less confident than `predictionConfig.minConfidence`: its
    /// forecasts are not used until it recalibrates.
    pub calibration_needed: bool,
    /// Whether the per-replica capacity was measured on saturated replicas (else it is
    /// the prior's guess from the most served without a queue).
    pub capacity_learned: bool,
    /// Work per second one replica sustains, in the workload's units (tokens/s for
    /// vLLM); absent before any load was seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity_per_replica: Option<f64>,
    /// The cold start forecasts look ahead by: the slowest of the recent ones seen.
    pub cold_start_seconds: f64,
    /// Each predictor's recent accuracy on the demand forecast.
    #[serde(default)]
    pub predictors: Vec<PredictorAccuracy>,
    /// When the driver last saved the state (the operator's ConfigMap), RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_saved: Option<String>,
}

/// One predictor's recent accuracy.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PredictorAccuracy {
    pub predictor: String,
    /// Forecasts scored against what happened (signed only so the schema carries no
    /// float `minimum`, which the CRD round trip would not keep).
    pub scored: i64,
    /// Mean absolute percentage error of those, 0–1 (and beyond for wild misses);
    /// absent before any was scored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mape: Option<f64>,
}

/// The learning status of a scaler's state (`Some` for BudScaler only), with the
/// pattern of `last` decision and the manifest's `min_confidence`.
pub fn learning_status(
    state: &crate::ScalerState,
    last: Option<&Decision>,
    min_confidence: f64,
) -> Option<LearningStatus> {
    let crate::ScalerState::BudScaler { bud, .. } = state else {
        return None;
    };
    let predictors: Vec<PredictorAccuracy> = crate::budscaler::forecast::PREDICTORS
        .iter()
        .enumerate()
        .map(|(index, predictor)| {
            let errors = bud.demand.errors.get(index).filter(|e| e.scored > 0);
            PredictorAccuracy {
                predictor: predictor.as_str().to_string(),
                scored: errors.map_or(0, |e| i64::from(e.scored)),
                mape: errors.map(|e| e.mape),
            }
        })
        .collect();
    let best = bud
        .demand
        .errors
        .iter()
        .filter(|e| e.scored > 0)
        .min_by(|a, b| a.mape.total_cmp(&b.mape));
    let pattern = last.and_then(|d| d.pattern.as_ref());
    Some(LearningStatus {
        data_points_collected: best.map_or(0, |e| i64::from(e.scored)),
        overall_accuracy: best.map(|e| (1.0 - e.mape).clamp(0.0, 1.0)),
        direction_accuracy: best.map(|e| e.direction),
        recent_mape: best.map(|e| e.mape),
        recent_mae: best.map(|e| e.mae),
        seasonal_data_complete: bud.demand.seasonal.week.iter().all(Option::is_some)
            && !bud.demand.seasonal.week.is_empty(),
        detected_pattern: pattern.map(|p| p.name.clone()),
        pattern_confidence: pattern.map(|p| p.confidence),
        calibration_needed: best.is_some_and(|e| 1.0 - e.mape < min_confidence),
        capacity_learned: bud.capacity.is_learned(),
        capacity_per_replica: bud.capacity.per_replica(1.0),
        cold_start_seconds: bud.cold_starts.lookahead() as f64 / 1e6,
        predictors,
        last_saved: None,
    })
}

/// A Kubernetes condition as the API writes it.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StatusCondition {
    #[serde(rename = "type")]
    pub kind: String,
    /// `True` or `False`.
    pub status: String,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub last_transition_time: String,
}

/// One change of the target's scale.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ScalingRecord {
    pub timestamp: String,
    pub previous_scale: i32,
    pub new_scale: i32,
    pub reason: String,
    pub algorithm: String,
    /// False when the patch failed (or, in shadow mode, was never sent).
    pub success: bool,
}

/// BudScaler's forecast at the last decision.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PredictionStatus {
    /// The forecast's predictor, demand (work per second at its quantile), horizon,
    /// confidence and whether it was used; absent when the decision carried no
    /// forecast (only a schedule hint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predictor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forecast: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub horizon_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used: Option<bool>,
    /// The replicas the forecast alone asks for (absent before a capacity per replica
    /// is known).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicted_replicas: Option<i32>,
    /// The seed's name for `confidence`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prediction_confidence: Option<f64>,
    /// RFC 3339: when the forecast expects the count to differ from the decision's
    /// (now + the horizon); absent when it expects no change.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_predicted_change: Option<String>,
    /// The schedule hint active at the decision, by name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_schedule_hint: Option<String>,
}

/// What the driver did with a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// Patched (or nothing to patch).
    Yes,
    /// The patch failed.
    Failed,
    /// Shadow mode: never sent.
    Shadow,
}

impl ScalerStatus {
    /// Folds in one decision taken at `now_unix_us`, with the target at `actual`
    /// replicas.
    pub fn update(
        &mut self,
        decision: &Decision,
        actual: i32,
        applied: Applied,
        now_unix_us: Micros,
    ) {
        let now = rfc3339(now_unix_us);
        self.desired_scale = Some(decision.desired_replicas);
        self.actual_scale = Some(actual);
        if decision.desired_replicas != decision.current_replicas {
            let success = applied == Applied::Yes;
            if success {
                self.last_scale_time = Some(now.clone());
            }
            self.scaling_history.push(ScalingRecord {
                timestamp: now.clone(),
                previous_scale: decision.current_replicas,
                new_scale: decision.desired_replicas,
                reason: decision.reason.as_str().to_string(),
                algorithm: decision.strategy.as_str().to_string(),
                success,
            });
            let excess = self.scaling_history.len().saturating_sub(HISTORY);
            self.scaling_history.drain(..excess);
        }
        let c = &decision.conditions;
        for (kind, condition) in [
            ("AbleToScale", &c.able_to_scale),
            ("ScalingActive", &c.scaling_active),
            ("ScalingLimited", &c.scaling_limited),
        ] {
            self.set_condition(kind, condition, &decision.message, &now);
        }
        let hint = decision.schedule_hint.as_ref().map(|h| h.name.clone());
        self.prediction_status = match &decision.forecast {
            Some(f) => Some(PredictionStatus {
                predictor: Some(f.predictor.clone()),
                forecast: Some(f.value),
                horizon_seconds: Some(f.horizon_s),
                confidence: Some(f.confidence),
                used: Some(f.used),
                predicted_replicas: f.replicas,
                prediction_confidence: Some(f.confidence),
                next_predicted_change: f
                    .replicas
                    .filter(|&r| r != decision.desired_replicas)
                    .map(|_| rfc3339(now_unix_us + (f.horizon_s * 1e6).round() as Micros)),
                active_schedule_hint: hint,
            }),
            None => hint.map(|hint| PredictionStatus {
                active_schedule_hint: Some(hint),
                ..PredictionStatus::default()
            }),
        };
    }

    /// Reports what a driver found outside the decision: a condition of type `kind`
    /// (the operator's `MetricsAvailable`, or `AbleToScale` false when the target is
    /// missing or shared with another scaler), at `now_unix_us`.
    pub fn report(
        &mut self,
        kind: &str,
        status: bool,
        reason: &str,
        message: &str,
        now_unix_us: Micros,
    ) {
        let condition = Condition {
            status,
            reason: reason.to_string(),
        };
        self.set_condition(kind, &condition, message, &rfc3339(now_unix_us));
    }

    /// The condition of type `kind`, if reported.
    pub fn condition(&self, kind: &str) -> Option<&StatusCondition> {
        self.conditions.iter().find(|c| c.kind == kind)
    }

    /// Sets a condition; its transition time moves only when its status changes.
    fn set_condition(&mut self, kind: &str, condition: &Condition, message: &str, now: &str) {
        let status = if condition.status { "True" } else { "False" }.to_string();
        match self.conditions.iter_mut().find(|c| c.kind == kind) {
            Some(existing) => {
                if existing.status != status {
                    existing.last_transition_time = now.to_string();
                }
                existing.status = status;
                existing.reason.clone_from(&condition.reason);
                message.clone_into(&mut existing.message);
            }
            None => self.conditions.push(StatusCondition {
                kind: kind.to_string(),
                status,
                reason: condition.reason.clone(),
                message: message.to_string(),
                last_transition_time: now.to_string(),
            }),
        }
    }
}

/// Unix µs as RFC 3339 in UTC, to the second (as Kubernetes writes times).
pub fn rfc3339(unix_us: Micros) -> String {
    chrono::DateTime::from_timestamp(unix_us.div_euclid(1_000_000), 0)
        .map_or_else(String::new, |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reported_condition_moves_its_transition_time_only_when_its_status_changes() {
        let mut status = ScalerStatus::default();
        status.report(
            "MetricsAvailable",
            false,
            "SourceFailed",
            "pod a: timeout",
            1_780_272_000_000_000,
        );
        status.report(
            "MetricsAvailable",
            false,
            "SourceFailed",
            "pod b: timeout",
            1_780_272_060_000_000,
        );
        let condition = status.condition("MetricsAvailable").unwrap();
        assert_eq!(
            (condition.status.as_str(), condition.message.as_str()),
            ("False", "pod b: timeout")
        );
        assert_eq!(condition.last_transition_time, "2026-06-01T00:00:00Z");
        status.report(
            "MetricsAvailable",
            true,
            "AllSourcesRead",
            "",
            1_780_272_120_000_000,
        );
        let condition = status.condition("MetricsAvailable").unwrap();
        assert_eq!(condition.last_transition_time, "2026-06-01T00:02:00Z");
        assert_eq!(status.conditions.len(), 1);
    }

    #[test]
    fn the_prediction_status_says_what_the_forecast_asks_when_and_the_active_hint() {
        let forecast = |replicas: Option<i32>| crate::decision::ForecastReading {
            value: 5000.0,
            point: 4000.0,
            current: 3000.0,
            horizon_s: 240.0,
            quantile: 0.9,
            confidence: 0.8,
            predictor: "holt".to_string(),
            used: true,
            replicas,
        };
        let decision = |replicas: Option<i32>| Decision {
            at: 0,
            strategy: crate::spec::ScalingStrategy::BudScaler,
            current_replicas: 3,
            desired_replicas: 3,
            reason: crate::Reason::CurrentDemand,
            in_panic: false,
            metrics: Vec::new(),
            message: String::new(),
            decided_by: None,
            forecast: Some(forecast(replicas)),
            pattern: None,
            schedule_hint: Some(crate::decision::HintReading {
                name: "weekday-morning".to_string(),
                target_replicas: 2,
                fired_at: 0,
                until: 0,
            }),
            conditions: crate::decision::Conditions::of(None, None, None),
            desired_spot_replicas: None,
        };
        let now = 1_780_272_000_000_000;
        let mut status = ScalerStatus::default();
        status.update(&decision(Some(5)), 3, Applied::Yes, now);
        let prediction = status.prediction_status.clone().unwrap();
        assert_eq!(prediction.predicted_replicas, Some(5));
        assert_eq!(prediction.prediction_confidence, Some(0.8));
        assert_eq!(
            prediction.next_predicted_change.as_deref(),
            Some("2026-06-01T00:04:00Z"),
            "the forecast asks 5 where the decision is 3: a change due at the horizon"
        );
        assert_eq!(
            prediction.active_schedule_hint.as_deref(),
            Some("weekday-morning")
        );
        status.update(&decision(Some(3)), 3, Applied::Yes, now);
        let steady = status.prediction_status.clone().unwrap();
        assert_eq!(steady.next_predicted_change, None);
        let json = serde_json::to_value(&steady).unwrap();
        assert!(json["predictedReplicas"].is_number() && json["predictionConfidence"].is_number());
        // A hint without a forecast: the section names the hint alone.
        let mut hint_only = decision(None);
        hint_only.forecast = None;
        status.update(&hint_only, 3, Applied::Yes, now);
        let json = serde_json::to_value(status.prediction_status.clone().unwrap()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"activeScheduleHint": "weekday-morning"})
        );
        hint_only.schedule_hint = None;
        status.update(&hint_only, 3, Applied::Yes, now);
        assert_eq!(status.prediction_status, None);
    }

    #[test]
    fn only_budscaler_has_a_learning_status_and_a_fresh_one_says_nothing_is_learned() {
        let manifest = |strategy: &str| -> crate::spec::BudAIScaler {
            serde_json::from_value(serde_json::json!({
                "apiVersion": crate::spec::API_VERSION, "kind": crate::spec::KIND,
                "metadata": {"name": "s"},
                "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "llm"}, "maxReplicas": 4,
                         "scalingStrategy": strategy,
                         "metricsSources": [{"metricSourceType": "pod", "targetMetric": "q", "targetValue": "4"}]}
            }))
            .unwrap()
        };
        let hpa = crate::Scaler::new(&manifest("HPA")).unwrap();
        assert_eq!(learning_status(&hpa.snapshot(), None, 0.5), None);
        let bud = crate::Scaler::new(&manifest("BudScaler")).unwrap();
        let status = learning_status(&bud.snapshot(), None, 0.5).unwrap();
        assert!(!status.capacity_learned);
        assert_eq!(status.capacity_per_replica, None);
        assert_eq!(
            status.cold_start_seconds, 240.0,
            "the documented 4 min prior"
        );
        assert_eq!(status.predictors.len(), 3);
        assert!(
            status
                .predictors
                .iter()
                .all(|p| p.scored == 0 && p.mape.is_none())
        );
    }

    #[test]
    fn the_cost_status_prices_pods_by_capacity_type_against_the_budget() {
        let manifest: crate::spec::BudAIScaler = serde_json::from_value(serde_json::json!({
            "apiVersion": crate::spec::API_VERSION, "kind": crate::spec::KIND,
            "metadata": {"name": "s"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "llm"}, "maxReplicas": 4,
                     "metricsSources": [{"metricSourceType": "pod", "targetMetric": "q", "targetValue": "4"}],
                     "costConfig": {"enabled": true, "budgetPerHour": "30"}}
        }))
        .unwrap();
        let scaler = crate::Scaler::new(&manifest).unwrap();
        let mut obs = crate::Observation {
            now: 3_600_000_000,
            pods: (0..3)
                .map(|i| crate::observation::PodStatus::ready_since(format!("p{i}"), 0))
                .collect(),
            cost: Some(crate::observation::CostObservation {
                on_demand_per_replica_hour: 10.0,
                spot_per_replica_hour: 4.0,
                spent: 5.0,
                spot_interruptions_last_hour: 0,
            }),
            ..crate::Observation::default()
        };
        obs.pods[0].spot = true;
        let status = cost_status(scaler.spec(), &scaler.snapshot(), &obs).unwrap();
        assert_eq!(
            (
                status.spot_instances_in_use,
                status.on_demand_instances_in_use
            ),
            (1, 2)
        );
        assert_eq!(status.current_hourly_cost, 24.0);
        assert_eq!(status.budget_utilization, Some(0.8));
        assert_eq!(
            status.projected_daily_cost, 24.0,
            "nothing spent in a log not yet kept"
        );
        obs.cost = None;
        assert_eq!(cost_status(scaler.spec(), &scaler.snapshot(), &obs), None);
    }

    #[test]
    fn times_are_rfc3339_utc_to_the_second() {
        assert_eq!(rfc3339(1_780_272_000_500_000), "2026-06-01T00:00:00Z");
    }
}
