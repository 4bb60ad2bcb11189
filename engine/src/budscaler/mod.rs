//! BudScaler: the GenAI strategy. Demand in tokens per second, forecast over the cold
//! start, divided by what one replica is learned to sustain.
//!
//! Stages of one decision, in order (each names itself in `Decision.decided_by` or
//! `reason` when it set or limited the count):
//! 1. **Signals** ([`signals`]): ready and starting replicas, the work each ready
//!    replica served over the last scrape window, queues and KV use, and every manifest
//!    metric read by its kind (load, fraction, latency) into a guard proposal.
//! 2. **Capacity** ([`capacity`]): learned from saturated replicas; the cold start
//!    ([`cold_start`]) is learned from replicas seen starting.
//! 3. **Demand and forecast** ([`forecast`], [`seasonal`]): demand now = work served +
//!    the waiting backlog drained over [`BACKLOG_DRAIN`]; smoothed over
//!    `kpaConfig.stableWindow`; forecast at now + lookahead (`lookAheadMinutes` when
//!    written, else the observed cold start) at a calibrated high quantile
//!    ([`calibration`]). Load metrics named in `predictionMetrics` are forecast the
//!    same way for their guards.
//! 4. **Patterns** ([`patterns`]): at most one, each changing the decision in a
//!    documented way; recurring spikes leave a burst memory whose peak is held until
//!    the next burst is due.
//! 5. **Demand rule**: `ceil(demand to size for ÷ capacity per replica)`; the guards'
//!    largest proposal is a floor under it. Capacity is the learned one, or the prior
//!    ([`capacity`]) until a replica saturates. Before any replica has served anything
//!    the guards decide alone and only upward (a guard is a floor: it cannot tell that
//!    fewer replicas would do); with none asking the count holds (`CapacityUnknown`),
//!    unless nothing is served, queued or running (then none is needed).
//! 6. **Schedule hints** ([`hints`]): an active hint's `targetReplicas` is a floor.
//! 7. **Safety**: requests at the activator with nothing ready scale from zero; to
//!    zero only after `kpaConfig.scaleToZeroGracePeriod` without demand; starting
//!    replicas count as coming capacity and the starting-pods gate ([`gate`]) holds
//!    scale-up; no scale-down while a ready replica has no sample (partial metrics).
//! 8. **Behavior**: the HPA's stabilization windows, rate policies and min/max, as for
//!    the HPA strategy.

pub mod budget;
pub mod calibration;
pub mod capacity;
pub mod cold_start;
pub mod forecast;
pub mod gate;
pub mod gpu;
pub mod hints;
pub mod patterns;
pub mod seasonal;
pub mod signals;
pub mod spot;

use crate::decision::{
    DecidedBy, DeciderKind, Decision, ForecastReading, MetricReading, PatternReading, Reason,
};
use crate::hpa::{self, HpaConfig, LimitReason, StabilizationReason};
use crate::observation::Observation;
use crate::spec::{ResolvedSpec, ScalingStrategy};
use crate::time::{Micros, SECOND};
use capacity::CapacityModel;
use cold_start::ColdStarts;
use forecast::{Forecaster, Inputs};
use patterns::{Pattern, Signals};
use serde::{Deserialize, Serialize};
use signals::{GuardReading, Workload};

/// Seconds a waiting backlog is to be drained in: it adds `backlog work ÷ this` to
/// demand.
pub const BACKLOG_DRAIN: f64 = 60.0;

/// The share of the headroom the utilization target leaves that the forecast's
/// quantile may fill: at the default 80 % target the quantile is sized at 95 % of
/// saturated capacity.
pub const QUANTILE_HEADROOM_SHARE: f64 = 0.75;

/// Weight of a new reading in the work-per-request mean (the backlog's size).
pub const WORK_PER_REQUEST_ALPHA: f64 = 0.2;

/// The version of [`BudState`]'s layout.
pub const STATE_VERSION: u32 = 1;

/// Everything BudScaler learns; serialized in the scaler's snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudState {
    pub version: u32,
    pub capacity: CapacityModel,
    pub cold_starts: ColdStarts,
    pub demand: Forecaster,
    /// Work per finished request (exponentially weighted), for the backlog.
    #[serde(with = "crate::window::exact::option")]
    pub work_per_request: Option<f64>,
    /// Since when demand and queues have been zero (scale to zero).
    pub idle_since: Option<Micros>,
    /// Recurring bursts and the capacity the last one needed.
    #[serde(default)]
    pub bursts: patterns::BurstMemory,
    /// Forecasts of the load metrics named in `predictionMetrics`, by metric.
    #[serde(default)]
    pub metrics: std::collections::BTreeMap<String, Forecaster>,
    /// The driver's spend over the last day, for `costConfig.budgetPerDay`.
    #[serde(default)]
    pub spend: budget::SpendLog,
}

impl Default for BudState {
    fn default() -> Self {
        BudState {
            version: STATE_VERSION,
            capacity: CapacityModel::default(),
            cold_starts: ColdStarts::default(),
            demand: Forecaster::default(),
            work_per_request: None,
            idle_since: None,
            bursts: patterns::BurstMemory::default(),
            metrics: std::collections::BTreeMap::new(),
            spend: budget::SpendLog::default(),
        }
    }
}

/// What a manifest means to BudScaler, worked out once when the scaler is built.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The HPA behavior the proposal is settled through (no metrics).
    pub behavior: HpaConfig,
    /// Per manifest metric, in manifest order, how it becomes a replica count.
    pub kinds: Vec<signals::SignalKind>,
    /// The latency limits the metrics set (saturation for capacity learning).
    pub limits: Vec<signals::LatencyLimit>,
}

impl Plan {
    pub fn new(spec: &ResolvedSpec, behavior: HpaConfig) -> Plan {
        Plan {
            behavior,
            kinds: spec
                .metrics
                .iter()
                .map(|m| signals::SignalKind::of(&m.name))
                .collect(),
            limits: spec
                .metrics
                .iter()
                .filter_map(signals::LatencyLimit::of)
                .collect(),
        }
    }
}

/// What the stages proposed, before behavior.
struct Proposal {
    replicas: i32,
    reason: Reason,
    decided_by: DecidedBy,
}

fn decider(kind: DeciderKind, name: &str, replicas: i32) -> DecidedBy {
    DecidedBy {
        kind,
        name: name.to_string(),
        replicas,
    }
}

fn ceil_replicas(x: f64) -> i32 {
    if x.is_finite() {
        x.ceil().clamp(0.0, f64::from(i32::MAX)) as i32
    } else {
        i32::MAX
    }
}

/// One decision. `plan` is the manifest worked out once; `hpa` the behavior's history.
pub fn decide(
    spec: &ResolvedSpec,
    plan: &Plan,
    hpa: &mut hpa::Hpa,
    state: &mut BudState,
    obs: &Observation,
) -> Decision {
    let now = obs.now;
    let current = obs.current_replicas;
    let learn = spec.prediction.enable_learning;
    let mut notes: Vec<String> = Vec::new();

    // 1. Signals.
    let workload = Workload::read(obs, &plan.limits);
    let mut guards: Vec<GuardReading> = spec
        .metrics
        .iter()
        .zip(&plan.kinds)
        .map(|(m, &kind)| signals::guard(m, kind, obs, workload.ready))
        .collect();

    // 2. Capacity and cold start.
    state.capacity.update(&workload);
    state.cold_starts.update(obs);
    let utilization = spec.kpa.target_utilization;
    let per_replica = state.capacity.per_replica(utilization);
    let horizon = match spec.prediction.look_ahead_written {
        Some(minutes) => i64::from(minutes) * 60 * SECOND,
        None => state.cold_starts.lookahead(),
    };

    // 3. Demand and forecast.
    if let Some(wpr) = workload.work_per_request() {
        state.work_per_request = Some(match state.work_per_request {
            None => wpr,
            Some(w) => w + WORK_PER_REQUEST_ALPHA * (wpr - w),
        });
    }
    let backlog = workload.waiting * state.work_per_request.unwrap_or(0.0) / BACKLOG_DRAIN;
    let has_rates = !workload.replicas.is_empty();
    let latest = has_rates.then_some(workload.served + backlog);
    let before = state.demand.recent_mean();
    let local = obs.wall_clock.map(|w| w + hints::utc_offset(spec, w));
    let inputs = Inputs {
        now,
        local,
        smoothing_window: spec.kpa.stable_window,
        history: i64::from(spec.prediction.historical_data_days) * 24 * 3600 * SECOND,
        learn,
    };
    let mut forecast = None;
    let mut current_demand = None;
    if let Some(latest) = latest {
        let (smoothed, calibration) = state.demand.observe(&inputs, latest);
        notes.extend(calibration);
        current_demand = Some(smoothed);
        if spec.prediction.enabled {
            forecast = Some(state.demand.forecast(
                &inputs,
                smoothed,
                horizon,
                spec.prediction.predictor,
                spec.prediction.min_confidence,
            ));
        }
    }

    // Load metrics named in `predictionMetrics` are forecast like demand (seasonal
    // buckets only for those also in `seasonalMetrics`); their guards ask for the
    // forecast total's replicas.
    if spec.prediction.enabled {
        for g in guards.iter_mut() {
            let (signals::SignalKind::Load, Some(total)) = (g.kind, g.value) else {
                continue;
            };
            if !spec.prediction.prediction_metrics.contains(&g.metric) || g.target <= 0.0 {
                continue;
            }
            let seasonal = spec.prediction.seasonal_metrics.contains(&g.metric);
            let metric_inputs = Inputs {
                local: if seasonal { local } else { None },
                ..inputs
            };
            let forecaster = state.metrics.entry(g.metric.clone()).or_default();
            let (smoothed, _) = forecaster.observe(&metric_inputs, total);
            let ahead = forecaster.forecast(
                &metric_inputs,
                smoothed,
                horizon,
                spec.prediction.predictor,
                spec.prediction.min_confidence,
            );
            let replicas = ceil_replicas(ahead.value / g.target);
            if g.proposal.is_none_or(|p| replicas > p) {
                g.proposal = Some(replicas);
                notes.push(format!(
                    "{} forecast {} in {}s ({})",
                    g.metric,
                    round(ahead.value),
                    horizon / SECOND,
                    ahead.predictor
                ));
            }
        }
    }

    // 4. Patterns.
    let chosen_errors = forecast.as_ref().map(|f| &f.errors);
    let detected = patterns::detect(&Signals {
        workload: &workload,
        latest: latest.unwrap_or(0.0),
        before,
        current: current_demand.unwrap_or(0.0),
        forecast: forecast.as_ref().map(|f| f.point),
        relative_error: chosen_errors.as_ref().map_or(1.0, |e| e.relative_rmse()),
        direction_accuracy: chosen_errors.as_ref().map_or(0.0, |e| e.direction),
        forecast_used: forecast.as_ref().is_some_and(|f| f.used),
        spike_threshold: spec.kpa.panic_threshold_ratio(),
    });
    let pattern = detected.map(|d| d.pattern);
    let mut pattern_effect = String::new();
    if let Some(latest) = latest {
        state.bursts.observe(
            now,
            latest,
            workload.ready,
            pattern == Some(Pattern::TrafficSpike),
        );
    }
    let burst_floor = state.bursts.floor(now);

    // 5. Demand rule and guards.
    let mut proposal: Option<Proposal> = None;
    if let (Some(per_replica), Some(demand_now)) = (per_replica, current_demand) {
        let (sized, reason, kind, name) = match &forecast {
            Some(f) if pattern != Some(Pattern::BatchIngestion) => {
                if pattern == Some(Pattern::TrafficDrain) && f.used {
                    pattern_effect = "sized for the forecast alone".into();
                    (
                        f.value,
                        Reason::DemandForecast,
                        DeciderKind::Predictor,
                        f.predictor.clone(),
                    )
                } else if f.value >= demand_now {
                    (
                        f.value,
                        Reason::DemandForecast,
                        DeciderKind::Predictor,
                        f.predictor.clone(),
                    )
                } else {
                    (
                        demand_now,
                        Reason::CurrentDemand,
                        DeciderKind::Capacity,
                        "demand".to_string(),
                    )
                }
            }
            _ => {
                if pattern == Some(Pattern::BatchIngestion) {
                    pattern_effect =
                        "forecast trend ignored; sized on demand now and backlog".into();
                }
                (
                    demand_now,
                    Reason::CurrentDemand,
                    DeciderKind::Capacity,
                    "demand".to_string(),
                )
            }
        };
        let (sized, kind, name) = match (pattern, latest) {
            (Some(Pattern::TrafficSpike), Some(latest)) if latest > sized => {
                pattern_effect = "sized for the spike's demand at once".into();
                (latest, DeciderKind::Pattern, "traffic_spike".to_string())
            }
            _ => (sized, kind, name),
        };
        // A burst's peak is a floor until the next is due; while capacity is the
        // prior's guess, so are the replicas that served it.
        let mut burst_replicas = 0;
        let (sized, kind, name) = match burst_floor {
            Some(floor) if floor.demand > sized => {
                if !state.capacity.is_learned() {
                    burst_replicas = floor.ready;
                }
                pattern_effect = format!(
                    "a burst may recur: the last burst's demand {} is held",
                    round(floor.demand)
                );
                (
                    floor.demand,
                    DeciderKind::Pattern,
                    "burst_memory".to_string(),
                )
            }
            _ => (sized, kind, name),
        };
        let replicas = match (&forecast, kind) {
            (Some(f), DeciderKind::Predictor) => replicas_for_forecast(
                f.point.max(if f.used { 0.0 } else { demand_now }),
                sized,
                per_replica,
                utilization,
                state.capacity.is_learned(),
            ),
            _ => ceil_replicas(sized / per_replica).max(burst_replicas),
        };
        proposal = Some(Proposal {
            replicas,
            reason,
            decided_by: decider(kind, &name, replicas),
        });
    }
    let capacity_known = proposal.is_some();
    // A guard is a floor: without a learned capacity it may raise the count but cannot
    // tell that fewer replicas would do.
    let mut floor = |replicas: i32, kind: DeciderKind, name: &str| {
        if (capacity_known || replicas > current)
            && proposal.as_ref().is_none_or(|p| replicas > p.replicas)
        {
            proposal = Some(Proposal {
                replicas,
                reason: Reason::SignalGuard,
                decided_by: decider(kind, name, replicas),
            });
        }
    };
    for g in &guards {
        if let Some(replicas) = g.proposal {
            floor(replicas, DeciderKind::Signal, &g.metric);
        }
    }
    // GPU pressure (`gpuConfig`): floors like the guards.
    let gpu_readings = spec.gpu.enabled.then(|| gpu::read(&spec.gpu, obs));
    if let Some(readings) = &gpu_readings {
        for pressure in readings.proposals() {
            floor(
                pressure.proposal.unwrap_or(0),
                DeciderKind::Gpu,
                pressure.rule,
            );
        }
        let described = readings.describe();
        if !described.is_empty() {
            notes.push(described);
        }
    }
    if pattern == Some(Pattern::KvCachePressure) {
        let kv = workload.kv_max.unwrap_or(1.0);
        // Replicas starting count toward the need: adding them again each tick while
        // the cache stays full would grow the fleet by one per tick.
        let replicas = ceil_replicas(f64::from(workload.ready) * kv / patterns::KV_RELIEF)
            .max(workload.ready + 1);
        pattern_effect = format!(
            "sized to bring the fullest KV cache to {} (starting replicas count toward it)",
            patterns::KV_RELIEF
        );
        if proposal.as_ref().is_none_or(|p| replicas > p.replicas) {
            proposal = Some(Proposal {
                replicas,
                reason: Reason::SignalGuard,
                decided_by: decider(DeciderKind::Pattern, "kv_cache_pressure", replicas),
            });
        }
    }
    // Nothing served, nothing queued, nothing running: no replica is needed (the
    // scale-to-zero grace below still applies).
    let idle =
        latest.is_some_and(|d| d <= 0.0) && workload.waiting <= 0.0 && workload.running <= 0.0;
    let mut proposal = proposal.unwrap_or(if idle {
        Proposal {
            replicas: 0,
            reason: Reason::CurrentDemand,
            decided_by: decider(DeciderKind::Bounds, "idle", 0),
        }
    } else {
        Proposal {
            replicas: current,
            reason: Reason::CapacityUnknown,
            decided_by: decider(DeciderKind::Bounds, "hold", current),
        }
    });

    // 6. Schedule hints.
    let hint = obs.wall_clock.and_then(|w| hints::active(spec, w));
    if let Some(hint) = &hint
        && hint.target_replicas > proposal.replicas
    {
        proposal = Proposal {
            replicas: hint.target_replicas,
            reason: Reason::ScheduleHint,
            decided_by: decider(DeciderKind::Hint, &hint.name, hint.target_replicas),
        };
    }

    // 7. Safety.
    if idle {
        state.idle_since.get_or_insert(now);
    } else {
        state.idle_since = None;
    }
    if workload.ready == 0 && workload.activator_waiting > 0.0 && proposal.replicas < 1 {
        proposal = Proposal {
            replicas: 1,
            reason: Reason::Activation,
            decided_by: decider(DeciderKind::Bounds, "activator", 1),
        };
    } else if workload.ready == 0 && workload.activator_waiting > 0.0 && current == 0 {
        proposal.reason = Reason::Activation;
    }
    if proposal.replicas == 0 {
        let idle_long_enough = state
            .idle_since
            .is_some_and(|since| now - since >= spec.kpa.scale_to_zero_grace_period);
        if !idle_long_enough && current > 0 {
            proposal.replicas = 1;
            proposal.reason = Reason::ScaleToZeroGrace;
        }
    }
    let gate = &spec.behavior.scale_up.starting_pods;
    if proposal.replicas > current {
        proposal.replicas += gate::weight_shortfall(gate, workload.starting);
        let bypass = gate.bypass_gate_on_panic && pattern.is_some_and(Pattern::is_panic);
        if !bypass && gate::is_closed(gate, workload.ready, workload.starting) {
            proposal.replicas = current;
            proposal.reason = Reason::StartingPodsGate;
            pattern_effect = format!("{} replicas starting: scale-up waits", workload.starting);
        }
    }
    if proposal.replicas < current {
        if !workload.missing.is_empty() && workload.ready > 0 {
            proposal.replicas = current;
            proposal.reason = Reason::PartialMetrics;
            notes.push(format!(
                "no scale-down: no sample from {}",
                workload.missing.join(", ")
            ));
        } else if let Some(missing) = gpu_readings
            .as_ref()
            .map(|r| &r.missing)
            .filter(|m| !m.is_empty() && workload.ready > 0)
        {
            // The GPU source is configured and silent for these replicas: hold, as on
            // any missing metric (the reading is named in the notes above).
            proposal.replicas = current;
            proposal.reason = Reason::PartialMetrics;
            notes.push(format!(
                "no scale-down: no GPU reading from {}",
                missing.join(", ")
            ));
        } else if pattern == Some(Pattern::SteadyState) && proposal.replicas == current - 1 {
            proposal.replicas = current;
            pattern_effect = "a scale-down by one replica skipped".into();
        }
    }
    if pattern == Some(Pattern::ColdStart) && pattern_effect.is_empty() {
        pattern_effect = format!(
            "{} starting replicas counted as coming capacity",
            workload.starting
        );
    }

    // 8. Budget. The spend is logged whenever cost awareness is on (the cost status
    // projects from it), and capped only with a budget.
    let spend = match (&obs.cost, spec.cost.enabled) {
        (Some(cost), true) => Some((cost, state.spend.record(now, cost.spent))),
        _ => None,
    };
    if budget::is_budgeted(&spec.cost) {
        match spend {
            Some((cost, total)) => {
                if let Some(cap) = budget::cap(&spec.cost, obs, cost, &state.spend, total)
                    && proposal.replicas > cap.replicas
                {
                    notes.push(format!(
                        "{} replicas would cost {:.2}/h; {} leaves {:.2} for the next hour, {} replica(s) at {:.2}/h{}",
                        proposal.replicas,
                        f64::from(proposal.replicas) * cap.price,
                        cap.which,
                        cap.available,
                        cap.replicas,
                        cap.price,
                        if cap.replicas < spec.min_replicas {
                            format!("; minReplicas {} is kept over the budget", spec.min_replicas)
                        } else {
                            String::new()
                        }
                    ));
                    proposal.replicas = cap.replicas;
                    proposal.reason = Reason::BudgetLimit;
                    proposal.decided_by = decider(DeciderKind::Budget, cap.which, cap.replicas);
                }
            }
            None => notes.push("budget not applied: the driver reports no prices".to_string()),
        }
    }

    // 9. Behavior.
    let clamped = proposal
        .replicas
        .clamp(spec.min_replicas, spec.max_replicas);
    let (desired, stabilization, limit) = hpa.settle(&plan.behavior, now, current, clamped);
    let proposal_reason = proposal.reason;
    let reason = match (limit, stabilization) {
        (LimitReason::DesiredWithinRange, StabilizationReason::ScaleUpStabilized) => {
            Reason::ScaleUpStabilized
        }
        (LimitReason::DesiredWithinRange, StabilizationReason::ScaleDownStabilized) => {
            Reason::ScaleDownStabilized
        }
        (LimitReason::ScaleUpLimit, _) => Reason::ScaleUpLimit,
        (LimitReason::ScaleDownLimit, _) => Reason::ScaleDownLimit,
        (LimitReason::TooManyReplicas, _) => Reason::TooManyReplicas,
        (LimitReason::TooFewReplicas, _) => Reason::TooFewReplicas,
        (LimitReason::DesiredWithinRange, _) => proposal.reason,
    };

    let metrics: Vec<MetricReading> = guards
        .iter()
        .map(|g| MetricReading {
            metric: g.metric.clone(),
            value: g.value,
            target: g.target,
            proposed_replicas: g.proposal,
            error: g.error.clone(),
        })
        .collect();
    let forecast_reading = forecast.as_ref().map(|f| ForecastReading {
        value: f.value,
        point: f.point,
        current: f.current,
        horizon_s: f.horizon as f64 / SECOND as f64,
        quantile: 0.9,
        confidence: f.confidence,
        predictor: f.predictor.clone(),
        used: f.used,
        replicas: per_replica.map(|per_replica| {
            replicas_for_forecast(
                f.point,
                f.value,
                per_replica,
                utilization,
                state.capacity.is_learned(),
            )
        }),
    });
    let pattern_reading = detected.map(|d| PatternReading {
        name: d.pattern.name().to_string(),
        confidence: d.confidence,
        effect: if pattern_effect.is_empty() {
            "none at this decision".to_string()
        } else {
            pattern_effect.clone()
        },
    });
    let (desired_spot, spot_note) = spot::desired_spot(
        spec,
        obs,
        desired,
        state.cold_starts.lookahead() as f64 / SECOND as f64,
    );
    notes.extend(spot_note);
    let message = sentence(
        current,
        desired,
        reason,
        &proposal.decided_by,
        current_demand,
        per_replica.map(|c| (c, state.capacity.is_learned())),
        forecast_reading.as_ref(),
        pattern_reading.as_ref(),
        hint.as_ref(),
        &metrics,
        &notes,
    );
    Decision {
        at: now,
        strategy: ScalingStrategy::BudScaler,
        current_replicas: current,
        desired_replicas: desired,
        reason,
        in_panic: pattern.is_some_and(Pattern::is_panic),
        metrics,
        message,
        decided_by: Some(proposal.decided_by),
        forecast: forecast_reading,
        pattern: pattern_reading,
        schedule_hint: hint,
        conditions: {
            let mut conditions = crate::decision::Conditions::of(
                Some(stabilization),
                Some(limit),
                (proposal_reason == Reason::MetricsUnavailable).then_some("FailedGetMetrics"),
            );
            if proposal_reason == Reason::BudgetLimit && limit == LimitReason::DesiredWithinRange {
                conditions.scaling_limited = crate::decision::Condition {
                    status: true,
                    reason: "BudgetLimit".to_string(),
                };
            }
            conditions
        },
        desired_spot_replicas: desired_spot,
    }
}

/// Replicas for a forecast: the expected demand at the utilization target, and its
/// quantile up to the target plus [`QUANTILE_HEADROOM_SHARE`] of the headroom above
/// it (95 % of saturated capacity at the default 80 % target). The target is
/// headroom for the expected demand, the quantile headroom for the forecast's error;
/// paying both on the same demand sizes twice. While capacity is still the prior's
/// guess both apply in full: that double headroom is what keeps the SLO when the
/// guess runs out.
fn replicas_for_forecast(
    expected: f64,
    quantile: f64,
    per_replica: f64,
    utilization: f64,
    learned: bool,
) -> i32 {
    if !learned {
        return ceil_replicas(quantile.max(expected) / per_replica);
    }
    let saturated = per_replica / utilization;
    let quantile_utilization = utilization + (1.0 - utilization) * QUANTILE_HEADROOM_SHARE;
    ceil_replicas(expected / per_replica)
        .max(ceil_replicas(quantile / (saturated * quantile_utilization)))
}

fn round(value: f64) -> f64 {
    if value.abs() >= 100.0 {
        value.round()
    } else {
        (value * 1000.0).round() / 1000.0
    }
}

#[allow(clippy::too_many_arguments)]
fn sentence(
    current: i32,
    desired: i32,
    reason: Reason,
    decided_by: &DecidedBy,
    demand: Option<f64>,
    per_replica: Option<(f64, bool)>,
    forecast: Option<&ForecastReading>,
    pattern: Option<&PatternReading>,
    hint: Option<&crate::decision::HintReading>,
    metrics: &[MetricReading],
    notes: &[String],
) -> String {
    let mut text = format!(
        "BudScaler {current} → {desired} ({reason}): set by {} {} ({})",
        match decided_by.kind {
            DeciderKind::Predictor => "predictor",
            DeciderKind::Capacity => "capacity rule on",
            DeciderKind::Signal => "signal",
            DeciderKind::Pattern => "pattern",
            DeciderKind::Hint => "hint",
            DeciderKind::Bounds => "bounds:",
            DeciderKind::Budget => "budget",
            DeciderKind::Gpu => "gpu rule",
        },
        decided_by.name,
        decided_by.replicas
    );
    match (demand, per_replica) {
        (Some(d), Some((c, learned))) => text.push_str(&format!(
            "; demand {} work/s, capacity {} per replica{}",
            round(d),
            round(c),
            if learned {
                ""
            } else {
                " (prior: no saturation seen yet)"
            }
        )),
        (Some(d), None) => text.push_str(&format!(
            "; demand {} work/s, capacity not learned yet",
            round(d)
        )),
        _ => text.push_str("; no demand reading"),
    }
    if let Some(f) = forecast {
        text.push_str(&format!(
            "; forecast {} (point {}) in {}s by {}, confidence {}{}",
            round(f.value),
            round(f.point),
            f.horizon_s.round(),
            f.predictor,
            round(f.confidence),
            if f.used { "" } else { " (not used)" }
        ));
    }
    if let Some(p) = pattern {
        text.push_str(&format!("; pattern {}: {}", p.name, p.effect));
    }
    if let Some(h) = hint {
        text.push_str(&format!("; hint {} floor {}", h.name, h.target_replicas));
    }
    for m in metrics {
        text.push_str("; ");
        text.push_str(&m.describe());
    }
    for note in notes {
        text.push_str("; ");
        text.push_str(note);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_measured_capacity_lets_the_quantile_fill_replicas_to_95_percent() {
        // 800 per replica at 80%: saturated 1000, the quantile may use 950.
        assert_eq!(replicas_for_forecast(3000.0, 3700.0, 800.0, 0.8, true), 4);
        assert_eq!(replicas_for_forecast(3000.0, 3700.0, 800.0, 0.8, false), 5);
        // The expected demand alone still asks for its 80%.
        assert_eq!(replicas_for_forecast(3300.0, 3400.0, 800.0, 0.8, true), 5);
    }

    #[test]
    fn a_higher_utilization_target_leaves_less_headroom() {
        // Saturated 1000 per replica. At 60%: 600 per replica, quantile at 90%.
        assert_eq!(replicas_for_forecast(3000.0, 3700.0, 600.0, 0.6, true), 5);
        // At 100%: no headroom for either.
        assert_eq!(replicas_for_forecast(3000.0, 3700.0, 1000.0, 1.0, true), 4);
        assert_eq!(replicas_for_forecast(3000.0, 3000.0, 1000.0, 1.0, true), 3);
    }
}
