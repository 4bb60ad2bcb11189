//! The three HPA case kinds, run against [`crate::hpa`].
//!
//! - `hpa_replicas`: one metric through the replica calculator.
//! - `hpa_behavior`: rate policies and the min/max clamp (or the legacy rules).
//! - `hpa_stabilization`: the recommendation history windows.
//!
//! Cases describe pods by an abstract state; [`pod_status`] turns each state into the
//! concrete timestamps that put the pod in the intended `groupPods` group under the
//! default readiness timings (5 min CPU initialization, 30 s readiness delay).

use super::{InputError, mismatch, parse};
use crate::hpa::behavior::{Behavior, PolicyKind, ScalingPolicy, ScalingRulesSpec, SelectPolicy};
use crate::hpa::config::{
    CpuReadiness, DEFAULT_DOWNSCALE_STABILIZATION, HpaConfig, MetricSource, MetricTarget,
    ResourceKind, ResourceRequests, Tolerances,
};
use crate::hpa::rate_limits::{
    LimitReason, ScaleEvent, ScaleEvents, limit_legacy, limit_with_behavior,
};
use crate::hpa::replica_calculator::compute_metric;
use crate::hpa::stabilization::{Recommendation, stabilize_legacy, stabilize_with_behavior};
use crate::observation::{Observation, PodPhase, PodSample, PodStatus};
use crate::time::{Micros, from_secs_f64, seconds};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// The decision instant of every case; ages count back from it.
const NOW: Micros = seconds(1_000_000);
/// The metric key the cases' single metric is stored under.
const METRIC: &str = "metric";
/// metrics-server's sampling window for every sample.
const SAMPLE_WINDOW: Micros = seconds(60);

// ---------------------------------------------------------------- hpa_replicas

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplicasInput {
    current_replicas: i32,
    #[serde(default)]
    tolerance: Option<Value>,
    metric: MetricInput,
    pods: Vec<PodInput>,
    #[serde(default)]
    extra_samples: Vec<ExtraSample>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
enum MetricInput {
    ResourceUtilization { target_percent: i32 },
    ResourceAverageValue { target_milli: i64 },
    PodsAverageValue { target: f64 },
    ObjectValue { target: f64, value: f64 },
    ObjectAverageValue { target: f64, value: f64 },
    ExternalValue { target: f64, value: f64 },
    ExternalAverageValue { target: f64, value: f64 },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PodInput {
    name: String,
    state: PodState,
    #[serde(default)]
    usage_milli: Option<i64>,
    #[serde(default)]
    request_milli: Option<i64>,
    #[serde(default)]
    value: Option<f64>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum PodState {
    Ready,
    Unready,
    Hot,
    Pending,
    Failed,
    Deleting,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExtraSample {
    name: String,
    #[serde(default)]
    usage_milli: Option<i64>,
    #[serde(default)]
    value: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplicasExpect {
    replicas: i32,
    #[serde(default)]
    utilization_percent: Option<i32>,
}

pub(super) fn check_replicas(input: Value, expect: Value) -> Result<Vec<String>, InputError> {
    let input: ReplicasInput = parse("input", input)?;
    let expect: ReplicasExpect = parse("expect", expect)?;
    let tolerances = parse_tolerance(input.tolerance.as_ref())?;
    let (target, obs) = replicas_scenario(&input);
    HpaConfig::new(1, 1, vec![target.clone()])
        .validate()
        .map_err(|e| InputError::new("input.metric", e.to_string()))?;

    let mut mismatches = Vec::new();
    match compute_metric(&target, &obs, &tolerances, &CpuReadiness::default()) {
        Ok(value) => {
            if value.replicas != expect.replicas {
                mismatches.push(mismatch("replicas", expect.replicas, value.replicas));
            }
            if let Some(expected) = expect.utilization_percent
                && value.utilization_percent != Some(expected)
            {
                let got = value
                    .utilization_percent
                    .map_or_else(|| "none".to_string(), |u| u.to_string());
                mismatches.push(mismatch("utilization_percent", expected, got));
            }
        }
        Err(e) => mismatches.push(mismatch("replicas", expect.replicas, format!("error: {e}"))),
    }
    Ok(mismatches)
}

/// Accepts `0.1` or `{ "up": 0.05, "down": 0.2 }`.
fn parse_tolerance(value: Option<&Value>) -> Result<Tolerances, InputError> {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Split {
        up: f64,
        down: f64,
    }
    let tolerances = match value {
        None => Tolerances::default(),
        Some(Value::Number(n)) => Tolerances::symmetric(n.as_f64().unwrap_or(f64::NAN)),
        Some(v @ Value::Object(_)) => {
            let split: Split = parse("input.tolerance", v.clone())?;
            Tolerances {
                scale_up: split.up,
                scale_down: split.down,
            }
        }
        Some(other) => {
            return Err(InputError::new(
                "input.tolerance",
                format!("expected a number or {{\"up\": f, \"down\": f}}, found {other}"),
            ));
        }
    };
    for t in [tolerances.scale_up, tolerances.scale_down] {
        if !t.is_finite() || t < 0.0 {
            return Err(InputError::new(
                "input.tolerance",
                format!("expected a finite number >= 0, found {t}"),
            ));
        }
    }
    Ok(tolerances)
}

/// The metric target and the observation a replicas case describes.
fn replicas_scenario(input: &ReplicasInput) -> (MetricTarget, Observation) {
    let requests = ResourceRequests {
        per_pod_milli: None,
        by_pod: input
            .pods
            .iter()
            .filter_map(|p| p.request_milli.map(|r| (p.name.clone(), r)))
            .collect(),
    };
    let (source, object_value, uses_usage) = match input.metric {
        MetricInput::ResourceUtilization { target_percent } => (
            MetricSource::ResourceUtilization {
                target_percent,
                resource: ResourceKind::Cpu,
                requests,
            },
            None,
            true,
        ),
        MetricInput::ResourceAverageValue { target_milli } => (
            MetricSource::ResourceAverageValue {
                target_milli,
                resource: ResourceKind::Cpu,
            },
            None,
            true,
        ),
        MetricInput::PodsAverageValue { target } => {
            (MetricSource::PodsAverageValue { target }, None, false)
        }
        MetricInput::ObjectValue { target, value } => {
            (MetricSource::ObjectValue { target }, Some(value), false)
        }
        MetricInput::ObjectAverageValue { target, value } => (
            MetricSource::ObjectAverageValue { target },
            Some(value),
            false,
        ),
        MetricInput::ExternalValue { target, value } => {
            (MetricSource::ExternalValue { target }, Some(value), false)
        }
        MetricInput::ExternalAverageValue { target, value } => (
            MetricSource::ExternalAverageValue { target },
            Some(value),
            false,
        ),
    };
    let sample_of = |usage: Option<i64>, value: Option<f64>| {
        let v = if uses_usage {
            usage.map(|u| u as f64)
        } else {
            value
        };
        v.map(|value| PodSample {
            timestamp: NOW,
            window: SAMPLE_WINDOW,
            value,
        })
    };
    let samples: BTreeMap<String, PodSample> = input
        .pods
        .iter()
        .filter_map(|p| sample_of(p.usage_milli, p.value).map(|s| (p.name.clone(), s)))
        .chain(
            input
                .extra_samples
                .iter()
                .filter_map(|e| sample_of(e.usage_milli, e.value).map(|s| (e.name.clone(), s))),
        )
        .collect();
    let obs = Observation {
        now: NOW,
        current_replicas: input.current_replicas,
        pods: input
            .pods
            .iter()
            .map(|p| pod_status(&p.name, p.state))
            .collect(),
        pod_metrics: BTreeMap::from([(METRIC.to_string(), samples)]),
        object_metrics: object_value
            .map(|v| (METRIC.to_string(), v))
            .into_iter()
            .collect(),
        gpu: BTreeMap::new(),
        resource_requests: BTreeMap::new(),
        ..Observation::default()
    };
    let target = MetricTarget {
        name: METRIC.to_string(),
        source,
    };
    (target, obs)
}

/// Concrete pod status for an abstract case state. Samples are taken at [`NOW`] over
/// [`SAMPLE_WINDOW`].
fn pod_status(name: &str, state: PodState) -> PodStatus {
    let long_ago = NOW - seconds(3600);
    let (phase, ready, start_time, ready_transition_time, deleting) = match state {
        // Started an hour ago, ready ten seconds later.
        PodState::Ready => (
            PodPhase::Running,
            true,
            Some(long_ago),
            Some(long_ago + seconds(10)),
            false,
        ),
        // Readiness went False at start and never changed: never ready.
        PodState::Unready => (
            PodPhase::Running,
            false,
            Some(long_ago),
            Some(long_ago),
            false,
        ),
        // Started 10 s ago, ready 5 s ago: the sample window began before readiness.
        PodState::Hot => (
            PodPhase::Running,
            true,
            Some(NOW - seconds(10)),
            Some(NOW - seconds(5)),
            false,
        ),
        PodState::Pending => (PodPhase::Pending, false, None, None, false),
        PodState::Failed => (
            PodPhase::Failed,
            false,
            Some(long_ago),
            Some(long_ago),
            false,
        ),
        PodState::Deleting => (
            PodPhase::Running,
            false,
            Some(long_ago),
            Some(NOW - seconds(5)),
            true,
        ),
    };
    PodStatus {
        name: name.to_string(),
        phase,
        ready,
        start_time,
        ready_transition_time,
        deleting,
        creation_time: None,
        spot: false,
    }
}

// ---------------------------------------------------------------- hpa_behavior

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BehaviorCaseInput {
    current_replicas: i32,
    desired_replicas: i32,
    min_replicas: i32,
    max_replicas: i32,
    #[serde(default)]
    behavior: Option<BehaviorInput>,
    #[serde(default)]
    scale_up_events: Vec<EventInput>,
    #[serde(default)]
    scale_down_events: Vec<EventInput>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BehaviorInput {
    #[serde(default)]
    scale_up: Option<RulesInput>,
    #[serde(default)]
    scale_down: Option<RulesInput>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RulesInput {
    #[serde(default)]
    select_policy: Option<SelectPolicy>,
    #[serde(default)]
    policies: Option<Vec<PolicyInput>>,
    #[serde(default)]
    stabilization_window_s: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyInput {
    #[serde(rename = "type")]
    kind: PolicyKind,
    value: i32,
    period_s: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EventInput {
    age_s: f64,
    change: i32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BehaviorExpect {
    replicas: i32,
    #[serde(default)]
    reason: Option<LimitReason>,
}

pub(super) fn check_behavior(input: Value, expect: Value) -> Result<Vec<String>, InputError> {
    let input: BehaviorCaseInput = parse("input", input)?;
    let expect: BehaviorExpect = parse("expect", expect)?;
    if input.min_replicas > input.max_replicas {
        return Err(InputError::new(
            "input.min_replicas",
            format!(
                "must not exceed max_replicas ({}), found {}",
                input.max_replicas, input.min_replicas
            ),
        ));
    }
    let limited = match &input.behavior {
        None => limit_legacy(
            input.current_replicas,
            input.desired_replicas,
            input.min_replicas,
            input.max_replicas,
        ),
        Some(b) => {
            let behavior = Behavior {
                scale_up: b
                    .scale_up
                    .as_ref()
                    .map(|r| rules(r, "input.behavior.scale_up"))
                    .transpose()?,
                scale_down: b
                    .scale_down
                    .as_ref()
                    .map(|r| rules(r, "input.behavior.scale_down"))
                    .transpose()?,
            };
            behavior
                .validate()
                .map_err(|(field, message)| InputError::new(format!("input.{field}"), message))?;
            let events = ScaleEvents {
                up: events(&input.scale_up_events, "input.scale_up_events")?,
                down: events(&input.scale_down_events, "input.scale_down_events")?,
            };
            limit_with_behavior(
                input.current_replicas,
                input.desired_replicas,
                input.min_replicas,
                input.max_replicas,
                &behavior.resolve(DEFAULT_DOWNSCALE_STABILIZATION),
                &events,
                NOW,
            )
        }
    };
    let mut mismatches = Vec::new();
    if limited.replicas != expect.replicas {
        mismatches.push(mismatch("replicas", expect.replicas, limited.replicas));
    }
    if let Some(reason) = expect.reason
        && reason != limited.reason
    {
        mismatches.push(mismatch("reason", reason, limited.reason));
    }
    Ok(mismatches)
}

fn rules(input: &RulesInput, field: &str) -> Result<ScalingRulesSpec, InputError> {
    let stabilization_window = input
        .stabilization_window_s
        .map(|w| duration(w, &format!("{field}.stabilization_window_s")))
        .transpose()?;
    let policies = match &input.policies {
        None => None,
        Some(list) => Some(
            list.iter()
                .enumerate()
                .map(|(i, p)| {
                    Ok(ScalingPolicy {
                        kind: p.kind,
                        value: p.value,
                        period: duration(p.period_s, &format!("{field}.policies[{i}].period_s"))?,
                    })
                })
                .collect::<Result<Vec<_>, InputError>>()?,
        ),
    };
    Ok(ScalingRulesSpec {
        stabilization_window,
        select_policy: input.select_policy,
        policies,
    })
}

fn events(list: &[EventInput], field: &str) -> Result<Vec<ScaleEvent>, InputError> {
    list.iter()
        .enumerate()
        .map(|(i, e)| {
            Ok(ScaleEvent {
                at: NOW.saturating_sub(duration(e.age_s, &format!("{field}[{i}].age_s"))?),
                change: e.change,
                outdated: false,
            })
        })
        .collect()
}

/// A non-negative, finite number of seconds.
fn duration(s: f64, field: &str) -> Result<Micros, InputError> {
    if s.is_finite() && s >= 0.0 {
        Ok(from_secs_f64(s))
    } else {
        Err(InputError::new(
            field,
            format!("expected seconds >= 0, found {s}"),
        ))
    }
}

// ---------------------------------------------------------------- hpa_stabilization

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StabilizationInput {
    current_replicas: i32,
    desired_replicas: i32,
    #[serde(default)]
    history: Vec<HistoryInput>,
    #[serde(default)]
    up_window_s: Option<f64>,
    #[serde(default)]
    down_window_s: Option<f64>,
    #[serde(default)]
    legacy: bool,
    #[serde(default)]
    min_replicas: Option<i32>,
    #[serde(default)]
    max_replicas: Option<i32>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HistoryInput {
    age_s: f64,
    replicas: i32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StabilizationExpect {
    replicas: i32,
    #[serde(default)]
    history_len: Option<usize>,
}

pub(super) fn check_stabilization(input: Value, expect: Value) -> Result<Vec<String>, InputError> {
    let input: StabilizationInput = parse("input", input)?;
    let expect: StabilizationExpect = parse("expect", expect)?;
    let mut history = input
        .history
        .iter()
        .enumerate()
        .map(|(i, h)| {
            Ok(Recommendation {
                at: NOW.saturating_sub(duration(h.age_s, &format!("input.history[{i}].age_s"))?),
                replicas: h.replicas,
            })
        })
        .collect::<Result<Vec<_>, InputError>>()?;

    let replicas = if input.legacy {
        if input.up_window_s.is_some() || input.down_window_s.is_some() {
            return Err(InputError::new(
                "input.legacy",
                "legacy stabilization has no up_window_s/down_window_s",
            ));
        }
        let stabilized = stabilize_legacy(
            &mut history,
            input.desired_replicas,
            DEFAULT_DOWNSCALE_STABILIZATION,
            NOW,
        );
        match (input.min_replicas, input.max_replicas) {
            (Some(min), Some(max)) => {
                limit_legacy(input.current_replicas, stabilized.replicas, min, max).replicas
            }
            (None, None) => stabilized.replicas,
            _ => {
                return Err(InputError::new(
                    "input.min_replicas",
                    "give both min_replicas and max_replicas, or neither",
                ));
            }
        }
    } else {
        let (Some(up), Some(down)) = (input.up_window_s, input.down_window_s) else {
            return Err(InputError::new(
                "input",
                "expected up_window_s and down_window_s, or \"legacy\": true",
            ));
        };
        if input.min_replicas.is_some() || input.max_replicas.is_some() {
            return Err(InputError::new(
                "input.min_replicas",
                "min_replicas/max_replicas apply to legacy stabilization only",
            ));
        }
        stabilize_with_behavior(
            &mut history,
            input.current_replicas,
            input.desired_replicas,
            duration(up, "input.up_window_s")?,
            duration(down, "input.down_window_s")?,
            NOW,
        )
        .replicas
    };

    let mut mismatches = Vec::new();
    if replicas != expect.replicas {
        mismatches.push(mismatch("replicas", expect.replicas, replicas));
    }
    if let Some(len) = expect.history_len
        && len != history.len()
    {
        mismatches.push(mismatch("history_len", len, history.len()));
    }
    Ok(mismatches)
}
