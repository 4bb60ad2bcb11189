//! `spec.behavior`: per-direction stabilization, rate-limit policies and tolerance.
//!
//! The shape is Kubernetes' `HorizontalPodAutoscalerBehavior`, plus two seed fields:
//! `tolerance` (Kubernetes 1.33 added the same field) and the deprecated `maxScaleRate`.
//! Defaults are filled per field, as Kubernetes does: a `scaleUp` that sets only
//! `stabilizationWindowSeconds` keeps the default policies.

use super::defaults;
use super::quantity::Quantity;
use super::validate::{Problems, field, item};
use crate::time::{Micros, seconds};
use serde::{Deserialize, Serialize};

manifest_enum! {
    /// `policies[].type`.
    PolicyType {
        /// Change by at most `value` pods per period.
        Pods = "Pods",
        /// Change by at most `value` percent of the current replicas per period.
        Percent = "Percent",
    }
}

manifest_enum! {
    /// `selectPolicy`: how several policies combine.
    SelectPolicy {
        /// The policy allowing the largest change wins.
        Max = "Max",
        /// The policy allowing the smallest change wins.
        Min = "Min",
        /// No scaling in this direction.
        Disabled = "Disabled",
    }
}

/// `spec.behavior`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ScalingBehavior {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_up: Option<ScalingRules>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_down: Option<ScalingRules>,
}

/// `behavior.scaleUp` / `behavior.scaleDown`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ScalingRules {
    /// Seconds of past recommendations considered, 0..=3600. Default 0 up, 300 down.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stabilization_window_seconds: Option<i32>,
    /// `Max` (default), `Min` or `Disabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub select_policy: Option<String>,
    /// Left out: the Kubernetes defaults. Written as `[]`: allowed only with
    /// `selectPolicy: Disabled`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policies: Option<Vec<ScalingPolicy>>,
    /// The seed's deprecated rate limit, read as a factor > 1 (as Knative's rates): up,
    /// at most `current × rate`; down, at least `current ÷ rate`. `kpaConfig` rates take
    /// precedence for KPA and BudScaler.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_scale_rate: Option<Quantity>,
    /// A ratio in 0..1 (`0.1` = 10%): usage/target ratios this close to 1 cause no
    /// change. Default 0.1. (The seed's `"10"` meaning 10% is rejected, not guessed.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<Quantity>,
    /// The seed's starting-pods gate (scale-up only; read by BudScaler): replicas
    /// still starting count as coming capacity, and scale-up waits while too many start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starting_pods: Option<StartingPods>,
}

/// `behavior.scaleUp.startingPods`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct StartingPods {
    /// How much of a ready replica's capacity a starting one counts for, 0..=1.
    /// Default 1 (a starting replica will serve as much as a ready one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub starting_pod_weight: Option<Quantity>,
    /// No scale-up while this many replicas are starting; 0 (default) = no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_starting_pods: Option<i32>,
    /// No scale-up while this percent of the replicas are starting, 0..=100;
    /// 0 (default) = no limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_starting_pod_percent: Option<i32>,
    /// A traffic spike or a full KV cache scales up through the gate. Default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bypass_gate_on_panic: Option<bool>,
}

/// `startingPods`, resolved.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedStartingPods {
    pub weight: f64,
    /// 0 = no limit.
    pub max_starting_pods: i32,
    /// 0 = no limit.
    pub max_starting_pod_percent: i32,
    pub bypass_gate_on_panic: bool,
}

impl Default for ResolvedStartingPods {
    fn default() -> Self {
        ResolvedStartingPods {
            weight: 1.0,
            max_starting_pods: 0,
            max_starting_pod_percent: 0,
            bypass_gate_on_panic: true,
        }
    }
}

impl StartingPods {
    fn resolve(&self, path: &str, p: &mut Problems) -> ResolvedStartingPods {
        let defaults = ResolvedStartingPods::default();
        let weight_path = field(path, "startingPodWeight");
        let weight = match &self.starting_pod_weight {
            None => defaults.weight,
            Some(q) => match q.milli() {
                Ok(milli) if (0..=1000).contains(&milli) => milli as f64 / 1000.0,
                Ok(_) => {
                    p.push(
                        &*weight_path,
                        format!("must be in 0..=1 (found {:?})", q.as_str()),
                    );
                    defaults.weight
                }
                Err(err) => {
                    p.push(&*weight_path, err.to_string());
                    defaults.weight
                }
            },
        };
        let max_pods = self.max_starting_pods.unwrap_or(0);
        p.at_least(&field(path, "maxStartingPods"), i64::from(max_pods), 0);
        let max_percent = self.max_starting_pod_percent.unwrap_or(0);
        p.in_range(
            &field(path, "maxStartingPodPercent"),
            i64::from(max_percent),
            0,
            100,
        );
        ResolvedStartingPods {
            weight,
            max_starting_pods: max_pods.max(0),
            max_starting_pod_percent: max_percent.clamp(0, 100),
            bypass_gate_on_panic: self
                .bypass_gate_on_panic
                .unwrap_or(defaults.bypass_gate_on_panic),
        }
    }
}

/// One `policies[]` entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ScalingPolicy {
    /// `Pods` or `Percent` (required).
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub policy_type: Option<String>,
    /// Amount of change per period, >= 1 (required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<i32>,
    /// Length of the period, 1..=1800 seconds (required).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_seconds: Option<i32>,
}

/// Both directions, resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedBehavior {
    pub scale_up: ResolvedRules,
    pub scale_down: ResolvedRules,
}

/// One direction, resolved.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedRules {
    pub stabilization_window: Micros,
    pub select_policy: SelectPolicy,
    /// Never empty unless `select_policy` is `Disabled`.
    pub policies: Vec<ResolvedPolicy>,
    /// Ratio, e.g. 0.1.
    pub tolerance: f64,
    /// Factor > 1, when the seed's `maxScaleRate` was written.
    pub max_scale_rate: Option<f64>,
    /// Scale-up only (defaults for scale-down, where it is refused).
    pub starting_pods: ResolvedStartingPods,
}

/// One rate-limit policy, resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedPolicy {
    pub kind: PolicyType,
    pub value: i32,
    pub period: Micros,
}

/// Which way a rule set applies; selects the defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Direction {
    Up,
    Down,
}

impl ScalingBehavior {
    pub(crate) fn resolve(
        behavior: Option<&ScalingBehavior>,
        path: &str,
        p: &mut Problems,
    ) -> ResolvedBehavior {
        let empty = ScalingRules::default();
        let up = behavior.and_then(|b| b.scale_up.as_ref()).unwrap_or(&empty);
        let down = behavior
            .and_then(|b| b.scale_down.as_ref())
            .unwrap_or(&empty);
        ResolvedBehavior {
            scale_up: up.resolve(&field(path, "scaleUp"), Direction::Up, p),
            scale_down: down.resolve(&field(path, "scaleDown"), Direction::Down, p),
        }
    }
}

impl ScalingRules {
    fn resolve(&self, path: &str, direction: Direction, p: &mut Problems) -> ResolvedRules {
        let (default_window, default_policies): (i32, &[ResolvedPolicy]) = match direction {
            Direction::Up => (
                defaults::SCALE_UP_STABILIZATION_SECONDS,
                &defaults::SCALE_UP_POLICIES,
            ),
            Direction::Down => (
                defaults::SCALE_DOWN_STABILIZATION_SECONDS,
                &defaults::SCALE_DOWN_POLICIES,
            ),
        };
        let window = self.stabilization_window_seconds.unwrap_or(default_window);
        p.in_range(
            &field(path, "stabilizationWindowSeconds"),
            i64::from(window),
            0,
            3600,
        );
        let select_policy = p.word(
            &field(path, "selectPolicy"),
            self.select_policy.as_deref(),
            defaults::SELECT_POLICY,
        );
        let policies_path = field(path, "policies");
        let policies = match &self.policies {
            None => default_policies.to_vec(),
            Some(list) => {
                if list.is_empty() && select_policy != SelectPolicy::Disabled {
                    p.push(
                        &*policies_path,
                        "must list at least one policy unless selectPolicy is Disabled",
                    );
                }
                list.iter()
                    .enumerate()
                    .filter_map(|(i, policy)| policy.resolve(&item(&policies_path, i), p))
                    .collect()
            }
        };
        let tolerance = self
            .tolerance
            .as_ref()
            .map_or(defaults::TOLERANCE_MILLI, |t| {
                resolve_tolerance(&field(path, "tolerance"), t, p)
                    .unwrap_or(defaults::TOLERANCE_MILLI)
            });
        let max_scale_rate = self
            .max_scale_rate
            .as_ref()
            .and_then(|rate| resolve_rate(&field(path, "maxScaleRate"), rate, p));
        let starting_pods_path = field(path, "startingPods");
        let starting_pods = match (&self.starting_pods, direction) {
            (None, _) => ResolvedStartingPods::default(),
            (Some(gate), Direction::Up) => gate.resolve(&starting_pods_path, p),
            (Some(_), Direction::Down) => {
                p.push(
                    &*starting_pods_path,
                    "is a scale-up gate; write it under behavior.scaleUp",
                );
                ResolvedStartingPods::default()
            }
        };
        ResolvedRules {
            stabilization_window: seconds(i64::from(window.clamp(0, 3600))),
            select_policy,
            policies,
            tolerance: tolerance as f64 / 1000.0,
            max_scale_rate,
            starting_pods,
        }
    }
}

impl ScalingPolicy {
    fn resolve(&self, path: &str, p: &mut Problems) -> Option<ResolvedPolicy> {
        let kind = p.required_word(&field(path, "type"), self.policy_type.as_deref());
        let value = p.required_int(&field(path, "value"), self.value);
        let value = value.filter(|v| p.at_least(&field(path, "value"), i64::from(*v), 1));
        let period = p.required_int(&field(path, "periodSeconds"), self.period_seconds);
        let period =
            period.filter(|s| p.in_range(&field(path, "periodSeconds"), i64::from(*s), 1, 1800));
        Some(ResolvedPolicy {
            kind: kind?,
            value: value?,
            period: seconds(i64::from(period?)),
        })
    }
}

/// A tolerance ratio in milli (0..1000), or `None` after reporting.
fn resolve_tolerance(path: &str, value: &Quantity, p: &mut Problems) -> Option<i64> {
    match value.milli() {
        Err(err) => {
            p.push(path, err.to_string());
            None
        }
        Ok(milli) if (0..1000).contains(&milli) => Some(milli),
        Ok(_) => {
            p.push(
                path,
                format!(
                    "must be a ratio in 0..1, e.g. 0.1 for 10% (found {:?})",
                    value.as_str()
                ),
            );
            None
        }
    }
}

/// A rate factor > 1, or `None` after reporting.
pub(crate) fn resolve_rate(path: &str, value: &Quantity, p: &mut Problems) -> Option<f64> {
    match value.milli() {
        Err(err) => {
            p.push(path, err.to_string());
            None
        }
        Ok(milli) if milli > 1000 => Some(milli as f64 / 1000.0),
        Ok(_) => {
            p.push(
                path,
                format!(
                    "must be a factor > 1, e.g. 2 to allow doubling or halving (found {:?})",
                    value.as_str()
                ),
            );
            None
        }
    }
}
