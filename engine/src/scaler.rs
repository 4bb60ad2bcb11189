//! The top-level scaler: a validated manifest plus the state of its strategy.
//!
//! `Scaler::new(&manifest)` → `scaler.decide(&observation)` → [`Decision`]. The manifest
//! is translated once into the strategy's own normalized config (`hpa::HpaConfig`,
//! `kpa::KpaConfig`); each decision only reads the observation and updates the state.
//! [`Scaler::snapshot`] and [`Scaler::restore`] carry that state across restarts so a
//! restored scaler takes exactly the decisions the original would have taken.
//!
//! Strategies:
//! - `HPA`: the Kubernetes horizontal controller (`hpa`), metric sources mapped to
//!   HPA metric types (resource → Resource, pod/custom/inferenceEngine/prometheus
//!   without a query → Pods, external or a PromQL query → External).
//! - `KPA`: Knative's autoscaler (`kpa`) on the first metric source (Knative scales on
//!   one metric): the per-pod samples of ready pods are summed into the revision total
//!   that the stable and panic windows average.
//! - `BudScaler`: the GenAI strategy ([`crate::budscaler`]): token demand forecast
//!   over the cold start, divided by the learned per-replica capacity, with metric
//!   guards, patterns, schedule hints and the HPA's behavior. This file only
//!   dispatches to it.

use crate::budscaler::{self, BudState};
use crate::decision::Conditions;
use crate::decision::{Decision, MetricReading, Reason};
use crate::hpa::{
    self, Behavior, HpaConfig, HpaReason, HpaState, LimitReason, MetricSource, ResourceKind,
    ResourceRequests, ScalingPolicy, ScalingRulesSpec, StabilizationReason, Tolerances,
};
use crate::kpa::{self, Kpa, KpaConfig, KpaState, Load, Tick};
use crate::observation::Observation;
use crate::spec::{
    BudAIScaler, MetricSourceType, MetricTarget, PolicyType, ResolvedRules, ResolvedSpec,
    ScalingStrategy, SelectPolicy, ValidationErrors,
};
use crate::time::{Micros, SECOND};
use serde::{Deserialize, Serialize};

/// Why a manifest cannot drive a scaler.
#[derive(Debug, thiserror::Error)]
pub enum ScalerError {
    /// The manifest failed validation (every problem, one per line).
    #[error("{0}")]
    Invalid(#[from] ValidationErrors),
    /// The manifest is valid but asks the strategy for something it cannot do.
    #[error("{field}: {message}")]
    Unsupported { field: String, message: String },
    /// A snapshot belongs to another strategy than the manifest.
    #[error("snapshot is for strategy {found}, but the manifest asks for {expected}")]
    SnapshotMismatch {
        expected: ScalingStrategy,
        found: ScalingStrategy,
    },
}

/// Everything a scaler remembers between decisions; serialize it to survive restarts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "strategy", rename_all = "camelCase")]
pub enum ScalerState {
    Hpa {
        hpa: HpaState,
    },
    /// `None` until the first decision: Knative creates its decider with the ready pod
    /// count it sees then (the start-in-panic rule). `last_recorded` is the time of
    /// the last metric value fed to its windows.
    Kpa {
        kpa: Option<Box<KpaState>>,
        last_recorded: Option<Micros>,
    },
    /// The behavior's history and everything BudScaler learned (versioned).
    BudScaler {
        hpa: HpaState,
        #[serde(default)]
        bud: Box<BudState>,
    },
}

impl ScalerState {
    fn strategy(&self) -> ScalingStrategy {
        match self {
            ScalerState::Hpa { .. } => ScalingStrategy::Hpa,
            ScalerState::Kpa { .. } => ScalingStrategy::Kpa,
            ScalerState::BudScaler { .. } => ScalingStrategy::BudScaler,
        }
    }
}

/// The strategy's normalized config and live state.
#[derive(Debug, Clone)]
enum Engine {
    Hpa {
        config: HpaConfig,
        hpa: hpa::Hpa,
    },
    Kpa {
        config: KpaConfig,
        kpa: Option<Kpa>,
        last_recorded: Option<Micros>,
    },
    BudScaler {
        plan: budscaler::Plan,
        hpa: hpa::Hpa,
        bud: Box<BudState>,
    },
}

/// One autoscaler: a manifest, resolved, and the state of its strategy.
#[derive(Debug, Clone)]
pub struct Scaler {
    name: String,
    spec: ResolvedSpec,
    engine: Engine,
}

impl Scaler {
    /// Validates the manifest and builds a fresh scaler.
    pub fn new(manifest: &BudAIScaler) -> Result<Scaler, ScalerError> {
        let spec = manifest.resolved()?;
        let engine = match spec.strategy {
            ScalingStrategy::Hpa => Engine::Hpa {
                config: hpa_config(&spec)?,
                hpa: hpa::Hpa::new(),
            },
            ScalingStrategy::Kpa => Engine::Kpa {
                config: kpa_config(&spec)?,
                kpa: None,
                last_recorded: None,
            },
            ScalingStrategy::BudScaler => Engine::BudScaler {
                plan: budscaler::Plan::new(&spec, behavior_config(&spec)),
                hpa: hpa::Hpa::new(),
                bud: Box::default(),
            },
        };
        refuse_budscaler_only_fields(manifest, &spec)?;
        Ok(Scaler {
            name: manifest.name().to_string(),
            spec,
            engine,
        })
    }

    /// Builds a scaler from a manifest and a saved [`ScalerState`].
    pub fn restore(manifest: &BudAIScaler, state: ScalerState) -> Result<Scaler, ScalerError> {
        let mut scaler = Scaler::new(manifest)?;
        let expected = scaler.spec.strategy;
        match (&mut scaler.engine, state) {
            (Engine::Hpa { hpa, .. }, ScalerState::Hpa { hpa: saved }) => {
                *hpa = hpa::Hpa::from_state(saved);
            }
            (
                Engine::BudScaler { hpa, bud, .. },
                ScalerState::BudScaler {
                    hpa: saved,
                    bud: saved_bud,
                },
            ) => {
                if saved_bud.version > budscaler::STATE_VERSION {
                    return Err(ScalerError::Unsupported {
                        field: "state.bud.version".into(),
                        message: format!(
                            "snapshot format {} is newer than this engine's {}",
                            saved_bud.version,
                            budscaler::STATE_VERSION
                        ),
                    });
                }
                *hpa = hpa::Hpa::from_state(saved);
                *bud = saved_bud;
            }
            (
                Engine::Kpa {
                    kpa, last_recorded, ..
                },
                ScalerState::Kpa {
                    kpa: saved,
                    last_recorded: saved_recorded,
                },
            ) => {
                *kpa = saved.map(|state| Kpa::from_state(*state));
                *last_recorded = saved_recorded;
            }
            (_, other) => {
                return Err(ScalerError::SnapshotMismatch {
                    expected,
                    found: other.strategy(),
                });
            }
        }
        Ok(scaler)
    }

    /// The state to save; `restore(manifest, snapshot())` continues identically.
    pub fn snapshot(&self) -> ScalerState {
        match &self.engine {
            Engine::Hpa { hpa, .. } => ScalerState::Hpa {
                hpa: hpa.state().clone(),
            },
            Engine::Kpa {
                kpa, last_recorded, ..
            } => ScalerState::Kpa {
                kpa: kpa.as_ref().map(|k| Box::new(k.state().clone())),
                last_recorded: *last_recorded,
            },
            Engine::BudScaler { hpa, bud, .. } => ScalerState::BudScaler {
                hpa: hpa.state().clone(),
                bud: bud.clone(),
            },
        }
    }

    /// `metadata.name` of the manifest.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The manifest with every default applied.
    pub fn spec(&self) -> &ResolvedSpec {
        &self.spec
    }

    /// Says that `decision` (the last one this scaler took) was not applied: a driver in
    /// shadow mode, or a scale patch that failed. [`Scaler::decide`] records a change as
    /// applied, because the HPA's rate policies count the changes made within their
    /// periods; a change that never happened must not use up that budget. The HPA and
    /// BudScaler (which settles through the HPA's behavior) take the event back; the KPA
    /// keeps no record of applied changes, so nothing happens there.
    pub fn not_applied(&mut self, decision: &Decision) {
        match &mut self.engine {
            Engine::Hpa { hpa, .. } | Engine::BudScaler { hpa, .. } => {
                hpa.forget_scale_event(
                    decision.current_replicas,
                    decision.desired_replicas,
                    decision.at,
                );
            }
            Engine::Kpa { .. } => {}
        }
    }

    /// One decision at `obs.now`. Observations must come in non-decreasing time.
    pub fn decide(&mut self, obs: &Observation) -> Decision {
        let mut decision = self.decide_strategy(obs);
        if !obs.source_errors.is_empty() {
            let failing: Vec<String> = obs
                .source_errors
                .iter()
                .map(|(source, why)| format!("{source}: {why}"))
                .collect();
            decision
                .message
                .push_str(&format!("; sources not read: {}", failing.join("; ")));
        }
        decision
    }

    fn decide_strategy(&mut self, obs: &Observation) -> Decision {
        let spec = &self.spec;
        match &mut self.engine {
            Engine::Hpa { config, hpa } => {
                let config = with_requests(config, obs);
                let obs = with_hint_metrics(spec, obs);
                decide_hpa(spec, &config, hpa, &obs, ScalingStrategy::Hpa)
            }
            Engine::Kpa {
                config,
                kpa,
                last_recorded,
            } => decide_kpa(spec, config, kpa, last_recorded, obs),
            Engine::BudScaler { plan, hpa, bud } => budscaler::decide(spec, plan, hpa, bud, obs),
        }
    }
}

/// The HPA behavior (stabilization, rate policies, tolerance, min/max) of a manifest,
/// without metrics: the HPA adds its metrics; BudScaler computes its own proposal and
/// settles it through this.
fn behavior_config(spec: &ResolvedSpec) -> HpaConfig {
    let behavior = &spec.behavior;
    let mut config = HpaConfig::new(spec.min_replicas, spec.max_replicas, Vec::new());
    config.tolerance = Tolerances {
        scale_up: behavior.scale_up.tolerance,
        scale_down: behavior.scale_down.tolerance,
    };
    config.behavior = Some(Behavior {
        scale_up: Some(rules(&behavior.scale_up)),
        scale_down: Some(rules(&behavior.scale_down)),
    });
    config
}

/// Forecasting is BudScaler's, and schedule hints are BudScaler's and the HPA's: on a
/// manifest whose strategy would change nothing for them, they are refused rather than
/// silently ignored. The other way
/// round, BudScaler reads three `kpaConfig` fields only; the rest are refused on its
/// manifests ([`refuse_kpa_fields_budscaler_ignores`]).
fn refuse_budscaler_only_fields(
    manifest: &BudAIScaler,
    spec: &ResolvedSpec,
) -> Result<(), ScalerError> {
    if spec.strategy == ScalingStrategy::BudScaler {
        return refuse_kpa_fields_budscaler_ignores(manifest);
    }
    if manifest
        .spec
        .kpa_config
        .as_ref()
        .is_some_and(|k| k.target_utilization_percentage.is_some())
    {
        return Err(ScalerError::Unsupported {
            field: "spec.kpaConfig.targetUtilizationPercentage".to_string(),
            message: "only the BudScaler strategy reads it; a KPA manifest's \
                      metricsSources[].targetValue is already the target after utilization \
                      (Knative's target × target-utilization-percentage)"
                .to_string(),
        });
    }
    let refuse = |field: &str| {
        Err(ScalerError::Unsupported {
            field: field.to_string(),
            message: format!(
                "only the BudScaler strategy reads it; {} would ignore it (remove it or use scalingStrategy: BudScaler)",
                spec.strategy
            ),
        })
    };
    // The HPA reads schedule hints as KEDA's cron scaler does (one more metric
    // proposal); Knative has nothing like them.
    if spec.strategy == ScalingStrategy::Kpa && !spec.schedule_hints.is_empty() {
        return refuse("spec.scheduleHints");
    }
    if manifest
        .spec
        .prediction_config
        .as_ref()
        .is_some_and(|p| p.enabled == Some(true))
    {
        return refuse("spec.predictionConfig.enabled");
    }
    Ok(())
}

/// BudScaler reads `kpaConfig.stableWindow` (demand smoothing),
/// `panicThresholdPercentage` (the spike threshold), `scaleToZeroGracePeriod` and
/// `targetUtilizationPercentage` (the sizing target); any
/// other field written on a BudScaler manifest would change nothing, so it is refused
/// with its path (the first one, in the struct's order).
fn refuse_kpa_fields_budscaler_ignores(manifest: &BudAIScaler) -> Result<(), ScalerError> {
    let Some(kpa) = &manifest.spec.kpa_config else {
        return Ok(());
    };
    // Destructured in full so that a new `kpaConfig` field must be placed on one side.
    let crate::spec::KpaConfig {
        stable_window: _,
        panic_threshold_percentage: _,
        scale_to_zero_grace_period: _,
        target_utilization_percentage: _,
        panic_window_percentage,
        max_scale_up_rate,
        max_scale_down_rate,
        target_burst_capacity,
        scale_to_zero_pod_retention_period,
        scale_down_delay,
        activation_scale,
        initial_scale,
        allow_zero_initial_scale,
    } = kpa;
    let written = [
        ("panicWindowPercentage", panic_window_percentage.is_some()),
        ("maxScaleUpRate", max_scale_up_rate.is_some()),
        ("maxScaleDownRate", max_scale_down_rate.is_some()),
        ("targetBurstCapacity", target_burst_capacity.is_some()),
        (
            "scaleToZeroPodRetentionPeriod",
            scale_to_zero_pod_retention_period.is_some(),
        ),
        ("scaleDownDelay", scale_down_delay.is_some()),
        ("activationScale", activation_scale.is_some()),
        ("initialScale", initial_scale.is_some()),
        ("allowZeroInitialScale", allow_zero_initial_scale.is_some()),
    ];
    match written.into_iter().find(|&(_, is_written)| is_written) {
        None => Ok(()),
        Some((name, _)) => Err(ScalerError::Unsupported {
            field: format!("spec.kpaConfig.{name}"),
            message: "BudScaler does not read it (of kpaConfig it reads stableWindow, \
                      panicThresholdPercentage, scaleToZeroGracePeriod and \
                      targetUtilizationPercentage); remove it or use \
                      scalingStrategy: KPA"
                .to_string(),
        }),
    }
}

fn unsupported(index: usize, message: impl Into<String>) -> ScalerError {
    ScalerError::Unsupported {
        field: format!("spec.metricsSources[{index}].targetValue"),
        message: message.into(),
    }
}

fn hpa_config(spec: &ResolvedSpec) -> Result<HpaConfig, ScalerError> {
    let mut metrics = Vec::with_capacity(spec.metrics.len());
    for (index, metric) in spec.metrics.iter().enumerate() {
        let source = match (metric.source, metric.target) {
            (MetricSourceType::Resource, MetricTarget::Utilization { percent }) => {
                MetricSource::ResourceUtilization {
                    target_percent: percent,
                    resource: resource_kind(&metric.name),
                    requests: ResourceRequests::default(),
                }
            }
            (MetricSourceType::Resource, MetricTarget::AverageValue { milli }) => {
                MetricSource::ResourceAverageValue {
                    target_milli: milli,
                    resource: resource_kind(&metric.name),
                }
            }
            (_, MetricTarget::Utilization { .. }) => {
                return Err(unsupported(
                    index,
                    "a Utilization target needs a resource metric source",
                ));
            }
            (_, MetricTarget::Value { milli }) if metric.is_workload_value() => {
                MetricSource::ExternalValue {
                    target: milli as f64 / 1000.0,
                }
            }
            (_, MetricTarget::AverageValue { milli }) if metric.is_workload_value() => {
                MetricSource::ExternalAverageValue {
                    target: milli as f64 / 1000.0,
                }
            }
            (_, MetricTarget::AverageValue { milli }) => MetricSource::PodsAverageValue {
                target: milli as f64 / 1000.0,
            },
            (_, MetricTarget::Value { .. }) => {
                return Err(unsupported(
                    index,
                    "a Value target needs a workload-level source (external, or prometheus with promQL); per-pod sources take AverageValue",
                ));
            }
        };
        metrics.push(hpa::MetricTarget {
            name: metric.name.clone(),
            source,
        });
    }
    // KEDA's cron scaler: one external metric per hint, `targetReplicas` while the
    // hint is active and 0 otherwise, against an average-value target of 1, so it
    // proposes `targetReplicas` (tolerance applied) beside the other metrics.
    for hint in &spec.schedule_hints {
        metrics.push(hpa::MetricTarget {
            name: hint_metric(&hint.name),
            source: MetricSource::ExternalAverageValue { target: 1.0 },
        });
    }
    let mut config = behavior_config(spec);
    config.metrics = metrics;
    if !config.metrics.is_empty() {
        config.validate().map_err(|e| ScalerError::Unsupported {
            field: "spec".into(),
            message: e.to_string(),
        })?;
    }
    Ok(config)
}

/// The name of the HPA metric that carries schedule hint `name`.
fn hint_metric(name: &str) -> String {
    format!("scheduleHints/{name}")
}

/// The observation with every schedule hint's metric filled in: `targetReplicas` while
/// the hint is active at `obs.wall_clock`, 0 otherwise (KEDA's cron scaler reports its
/// desired replicas inside the window and nothing outside it). Borrowed without hints.
fn with_hint_metrics<'a>(
    spec: &ResolvedSpec,
    obs: &'a Observation,
) -> std::borrow::Cow<'a, Observation> {
    if spec.schedule_hints.is_empty() {
        return std::borrow::Cow::Borrowed(obs);
    }
    let mut filled = obs.clone();
    for hint in &spec.schedule_hints {
        let active = obs.wall_clock.is_some_and(|w| {
            crate::calendar::hints::latest_firing(&hint.schedule, hint.time_zone, w, hint.duration)
                .is_some()
        });
        let value = if active { hint.target_replicas } else { 0 };
        filled
            .object_metrics
            .insert(hint_metric(&hint.name), f64::from(value));
    }
    std::borrow::Cow::Owned(filled)
}

fn resource_kind(name: &str) -> ResourceKind {
    if name == "cpu" {
        ResourceKind::Cpu
    } else {
        ResourceKind::Other
    }
}

fn rules(resolved: &ResolvedRules) -> ScalingRulesSpec {
    ScalingRulesSpec {
        stabilization_window: Some(resolved.stabilization_window),
        select_policy: Some(match resolved.select_policy {
            SelectPolicy::Max => hpa::SelectPolicy::Max,
            SelectPolicy::Min => hpa::SelectPolicy::Min,
            SelectPolicy::Disabled => hpa::SelectPolicy::Disabled,
        }),
        policies: Some(
            resolved
                .policies
                .iter()
                .map(|p| match p.kind {
                    PolicyType::Pods => ScalingPolicy::pods(p.value, p.period),
                    PolicyType::Percent => ScalingPolicy::percent(p.value, p.period),
                })
                .collect(),
        ),
    }
}

fn kpa_config(spec: &ResolvedSpec) -> Result<KpaConfig, ScalerError> {
    let metric = spec
        .metrics
        .first()
        .ok_or_else(|| ScalerError::Unsupported {
            field: "spec.metricsSources".into(),
            message: "KPA needs one metric source (per-pod concurrency or requests per second)"
                .into(),
        })?;
    let target = match metric.target {
        MetricTarget::AverageValue { milli } | MetricTarget::Value { milli } => {
            milli as f64 / 1000.0
        }
        MetricTarget::Utilization { .. } => {
            return Err(unsupported(
                0,
                "KPA targets a per-pod value (AverageValue), not a resource utilization",
            ));
        }
    };
    let k = &spec.kpa;
    let config = KpaConfig {
        target_value: target,
        total_value: target / kpa::DEFAULT_TARGET_UTILIZATION,
        target_burst_capacity: k.target_burst_capacity,
        panic_threshold: k.panic_threshold_ratio(),
        max_scale_up_rate: k.max_scale_up_rate,
        max_scale_down_rate: k.max_scale_down_rate,
        stable_window: k.stable_window,
        panic_window_percentage: k.panic_window_percentage,
        scale_down_delay: k.scale_down_delay,
        activation_scale: k.activation_scale,
        enable_scale_to_zero: spec.min_replicas == 0,
        scale_to_zero_grace_period: k.scale_to_zero_grace_period,
        scale_to_zero_pod_retention_period: k.scale_to_zero_pod_retention_period,
        initial_scale: k.initial_scale,
        allow_zero_initial_scale: k.allow_zero_initial_scale,
        min_scale: spec.min_replicas,
        max_scale: spec.max_replicas,
        ..KpaConfig::default()
    };
    // Building a throwaway KPA checks the config and its window sizes, so the KPA
    // built lazily at the first decision cannot fail.
    Kpa::new(&config, 0, 0).map_err(|e| ScalerError::Unsupported {
        field: "spec.kpaConfig".into(),
        message: e.to_string(),
    })?;
    Ok(config)
}

/// Fills utilization metrics' per-pod requests from the observation (the HPA reads
/// them from the pod specs at every reconcile). Borrowed when nothing needs filling.
fn with_requests<'a>(config: &'a HpaConfig, obs: &Observation) -> std::borrow::Cow<'a, HpaConfig> {
    let needs_requests = config
        .metrics
        .iter()
        .any(|m| matches!(m.source, MetricSource::ResourceUtilization { .. }));
    if !needs_requests {
        return std::borrow::Cow::Borrowed(config);
    }
    let mut filled = config.clone();
    for metric in &mut filled.metrics {
        if let MetricSource::ResourceUtilization { requests, .. } = &mut metric.source {
            requests.by_pod = obs
                .resource_requests
                .get(&metric.name)
                .cloned()
                .unwrap_or_default();
        }
    }
    std::borrow::Cow::Owned(filled)
}

/// The sum of a pod metric's latest samples over ready pods, or `None` without samples.
fn ready_pod_total(obs: &Observation, metric: &str) -> Option<f64> {
    let samples = obs.pod_metrics.get(metric)?;
    let mut total = None;
    for pod in obs.pods.iter().filter(|p| p.is_ready()) {
        if let Some(sample) = samples.get(&pod.name) {
            *total.get_or_insert(0.0) += sample.value;
        }
    }
    total
}

fn decide_hpa(
    spec: &ResolvedSpec,
    config: &HpaConfig,
    hpa: &mut hpa::Hpa,
    obs: &Observation,
    strategy: ScalingStrategy,
) -> Decision {
    let current = obs.current_replicas;
    if config.metrics.is_empty() {
        let desired = current.clamp(spec.min_replicas, spec.max_replicas);
        return Decision {
            at: obs.now,
            strategy,
            current_replicas: current,
            desired_replicas: desired,
            reason: Reason::NoMetrics,
            in_panic: false,
            metrics: Vec::new(),
            message: format!(
                "no metric sources: replicas kept at {desired} within [{}, {}]",
                spec.min_replicas, spec.max_replicas
            ),
            decided_by: None,
            forecast: None,
            pattern: None,
            schedule_hint: None,
            conditions: Conditions::of(None, None, Some("NoMetrics")),
            desired_spot_replicas: None,
        };
    }
    let outcome = match hpa.decide(config, obs) {
        Ok(outcome) => outcome,
        // The config was validated when the scaler was built; keep the count if the
        // HPA still refuses it rather than guessing.
        Err(error) => {
            return Decision {
                at: obs.now,
                strategy,
                current_replicas: current,
                desired_replicas: current,
                reason: Reason::MetricsUnavailable,
                in_panic: false,
                metrics: Vec::new(),
                message: error.to_string(),
                decided_by: None,
                forecast: None,
                pattern: None,
                schedule_hint: None,
                conditions: Conditions::of(None, None, Some("FailedGetMetrics")),
                desired_spot_replicas: None,
            };
        }
    };
    let metrics: Vec<MetricReading> = config
        .metrics
        .iter()
        .zip(&spec.metrics)
        .map(|(target, resolved)| {
            let proposal = outcome.proposals.iter().find(|p| p.metric == target.name);
            let (value, proposed, error) = match proposal.map(|p| &p.result) {
                Some(Ok(v)) => (
                    Some(
                        v.utilization_percent
                            .map_or(v.current_milli as f64 / 1000.0, f64::from),
                    ),
                    Some(v.replicas),
                    None,
                ),
                Some(Err(e)) => (None, None, Some(e.to_string())),
                None => (None, None, None),
            };
            MetricReading {
                metric: target.name.clone(),
                value,
                target: resolved.target.value(),
                proposed_replicas: proposed,
                error,
            }
        })
        .collect();
    let conditions = match outcome.reason {
        HpaReason::ScalingDisabled => Conditions::of(None, None, Some("ScalingDisabled")),
        HpaReason::AboveMaxReplicas => {
            Conditions::of(None, Some(LimitReason::TooManyReplicas), None)
        }
        HpaReason::BelowMinReplicas => {
            Conditions::of(None, Some(LimitReason::TooFewReplicas), None)
        }
        HpaReason::MetricsInvalid { .. } => Conditions::of(None, None, Some("FailedGetMetrics")),
        HpaReason::Normalized {
            stabilization,
            limit,
            ..
        } => Conditions::of(Some(stabilization), Some(limit), None),
    };
    let reason = match outcome.reason {
        HpaReason::ScalingDisabled => Reason::ScalingDisabled,
        HpaReason::AboveMaxReplicas => Reason::AboveMaxReplicas,
        HpaReason::BelowMinReplicas => Reason::BelowMinReplicas,
        HpaReason::MetricsInvalid { .. } => Reason::MetricsUnavailable,
        HpaReason::Normalized {
            stabilization,
            limit,
            ..
        } => match (limit, stabilization) {
            (LimitReason::DesiredWithinRange, StabilizationReason::ScaleUpStabilized) => {
                Reason::ScaleUpStabilized
            }
            (LimitReason::DesiredWithinRange, StabilizationReason::ScaleDownStabilized) => {
                Reason::ScaleDownStabilized
            }
            (LimitReason::DesiredWithinRange, _) => Reason::DesiredWithinRange,
            (LimitReason::ScaleUpLimit, _) => Reason::ScaleUpLimit,
            (LimitReason::ScaleDownLimit, _) => Reason::ScaleDownLimit,
            (LimitReason::TooManyReplicas, _) => Reason::TooManyReplicas,
            (LimitReason::TooFewReplicas, _) => Reason::TooFewReplicas,
        },
    };
    // A schedule hint set the count when its proposal beat every metric's.
    let hint = obs
        .wall_clock
        .and_then(|w| budscaler::hints::active(spec, w));
    let decided_by = hint.as_ref().and_then(|hint| {
        let name = hint_metric(&hint.name);
        let proposed = |p: &hpa::MetricProposal| p.result.as_ref().ok().map(|v| v.replicas);
        let own = outcome
            .proposals
            .iter()
            .find(|p| p.metric == name)
            .and_then(proposed)?;
        let others = outcome
            .proposals
            .iter()
            .filter(|p| p.metric != name)
            .filter_map(proposed)
            .max();
        (others.is_none_or(|o| own > o)).then(|| crate::decision::DecidedBy {
            kind: crate::decision::DeciderKind::Hint,
            name: hint.name.clone(),
            replicas: own,
        })
    });
    let reason = match (reason, &decided_by) {
        (Reason::DesiredWithinRange, Some(_)) => Reason::ScheduleHint,
        (reason, _) => reason,
    };
    let mut message = sentence(
        strategy,
        current,
        outcome.desired_replicas,
        reason,
        &metrics,
    );
    if let Some(h) = &hint {
        message.push_str(&format!("; hint {} floor {}", h.name, h.target_replicas));
        if decided_by.is_some() {
            message.push_str(" set the proposal");
        }
    }
    Decision {
        at: obs.now,
        strategy,
        current_replicas: current,
        desired_replicas: outcome.desired_replicas,
        reason,
        in_panic: false,
        metrics,
        message,
        decided_by,
        forecast: None,
        pattern: None,
        schedule_hint: hint,
        conditions,
        desired_spot_replicas: None,
    }
}

fn decide_kpa(
    spec: &ResolvedSpec,
    config: &KpaConfig,
    kpa: &mut Option<Kpa>,
    last_recorded: &mut Option<Micros>,
    obs: &Observation,
) -> Decision {
    let metric = &spec.metrics[0];
    let ready_pods = obs.pods.iter().filter(|p| p.is_ready()).count() as i32;
    let kpa = match kpa {
        Some(kpa) => kpa,
        None => {
            // Validated in `Scaler::new`, so construction cannot fail here.
            let created = Kpa::new(config, obs.now, ready_pods)
                .expect("KPA config validated when the scaler was built");
            kpa.insert(created)
        }
    };
    let total = if metric.is_workload_value() {
        obs.object_metrics.get(&metric.name).copied()
    } else {
        ready_pod_total(obs, &metric.name)
    };
    if let Some(total) = total {
        // Knative's collector scrapes every second and its windows count a second
        // without a sample as zero. An observation stands for the load since the
        // previous one, so it fills every one-second bucket since then (at most one
        // stable window's worth).
        let oldest = obs.now - config.stable_window + SECOND;
        let mut at = last_recorded.map_or(obs.now, |last| (last + SECOND).max(oldest));
        while at < obs.now {
            kpa.record(at, total);
            at += SECOND;
        }
        kpa.record(obs.now, total);
        *last_recorded = Some(obs.now);
    }
    let outcome = kpa.decide(
        config,
        Tick {
            now: obs.now,
            ready_pods,
            current_replicas: obs.current_replicas,
        },
        Load::Recorded,
    );
    let reason = match outcome.reason {
        kpa::Reason::Stable => Reason::Stable,
        kpa::Reason::Panic => Reason::Panic,
        kpa::Reason::PanicRatchet => Reason::PanicRatchet,
        kpa::Reason::MaxScaleUpRate => Reason::MaxScaleUpRate,
        kpa::Reason::MaxScaleDownRate => Reason::MaxScaleDownRate,
        kpa::Reason::Unreachable => Reason::Unreachable,
        kpa::Reason::ActivationScale => Reason::ActivationScale,
        kpa::Reason::ScaleDownDelay => Reason::ScaleDownDelay,
        kpa::Reason::MinScale => Reason::TooFewReplicas,
        kpa::Reason::MaxScale => Reason::TooManyReplicas,
        kpa::Reason::InitialScale => Reason::InitialScale,
        kpa::Reason::ScaleToZeroGrace => Reason::ScaleToZeroGrace,
        kpa::Reason::PodRetention => Reason::PodRetention,
        kpa::Reason::ScaleToZeroDisabled => Reason::ScaleToZeroDisabled,
        kpa::Reason::ActivationTimeout => Reason::ActivationTimeout,
        kpa::Reason::NoMetrics => Reason::NoMetrics,
        kpa::Reason::InvalidConfig => Reason::MetricsUnavailable,
    };
    let metrics = vec![MetricReading {
        metric: metric.name.clone(),
        value: total,
        target: config.target_value,
        proposed_replicas: outcome.decider_desired,
        error: total
            .is_none()
            .then(|| format!("no samples of `{}` from ready pods", metric.name)),
    }];
    let message = sentence(
        ScalingStrategy::Kpa,
        obs.current_replicas,
        outcome.desired,
        reason,
        &metrics,
    );
    Decision {
        at: obs.now,
        strategy: ScalingStrategy::Kpa,
        current_replicas: obs.current_replicas,
        desired_replicas: outcome.desired,
        reason,
        in_panic: outcome.in_panic,
        metrics,
        message,
        decided_by: None,
        forecast: None,
        pattern: None,
        schedule_hint: None,
        conditions: Conditions::from_reason(reason),
        desired_spot_replicas: None,
    }
}

/// "HPA 3 → 5 (ScaleUpLimit): cpu 50 vs target 30 proposes 6".
fn sentence(
    strategy: ScalingStrategy,
    current: i32,
    desired: i32,
    reason: Reason,
    metrics: &[MetricReading],
) -> String {
    let mut text = format!("{strategy} {current} → {desired} ({reason})");
    for (i, m) in metrics.iter().enumerate() {
        text.push_str(if i == 0 { ": " } else { "; " });
        text.push_str(&m.describe());
    }
    text
}
