//! Upstream `ReplicaCalculator`: one metric's replica proposal.
//!
//! Pod-based metrics (resource, pods) group the pods ([`group_pods`]), compute a usage
//! ratio over the trusted samples and, when pods are missing or unready, recompute it
//! with the conservative fill-ins, refusing any result that would flip the scaling
//! direction. Object and external metrics compare one value with the target; with a
//! `Value` target the ratio is multiplied by the ready pod count, with an
//! `AverageValue` target the value is divided by the per-pod target. From zero
//! replicas a `Value` target proposes `ceil(ratio)` (scale-from-zero).
//!
//! As upstream, samples for pods that are not in the pod list stay in the sample set:
//! the utilization ratio skips them (they have no request), but the plain average and
//! the sample count of the recomputation include them.

use super::config::{
    CpuReadiness, MetricSource, MetricTarget, ResourceKind, ResourceRequests, Tolerances,
};
use super::pod_groups::{PodGroups, group_pods};
use super::quantity::{milli_value, whole_milli};
use super::usage::{metric_usage, resource_utilization};
use crate::observation::{Observation, PodPhase, PodSample, PodStatus};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What one metric proposes.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MetricValue {
    /// The proposed replica count.
    pub replicas: i32,
    /// Resource utilization in whole percent (utilization targets only).
    pub utilization_percent: Option<i32>,
    /// The current value as upstream reports it in the HPA status, milli-units: the
    /// average per pod (resource, pods, and `AverageValue` object/external targets) or
    /// the total (`Value` object/external targets).
    pub current_milli: i64,
}

/// Why a metric could not propose anything (upstream returns an error and the metric
/// counts as invalid).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum MetricError {
    #[error("no samples of pod metric `{metric}` in the observation")]
    NoSamples { metric: String },
    #[error("no value of metric `{metric}` in the observation")]
    NoValue { metric: String },
    #[error("no pods returned by selector while calculating replica count")]
    NoPods,
    #[error("did not receive metrics for targeted pods (pods might be unready)")]
    NoTargetedPodSamples,
    #[error("missing request for `{metric}` in pod {pod}")]
    MissingRequest { metric: String, pod: String },
    #[error("no metrics returned matched known pods")]
    NoSampleMatchesKnownPods,
    #[error("resource utilization {percent}% is outside the int32 range")]
    UtilizationOutOfRange { percent: String },
}

/// Computes one metric's proposal from an observation.
///
/// `obs.current_replicas` is upstream's `scale.spec.replicas`; upstream's
/// `scale.status.replicas` (used by `AverageValue` object/external targets) is the
/// number of active pods in `obs.pods` (not `Failed`/`Succeeded`, not being deleted).
pub fn compute_metric(
    target: &MetricTarget,
    obs: &Observation,
    tolerances: &Tolerances,
    readiness: &CpuReadiness,
) -> Result<MetricValue, MetricError> {
    let current = obs.current_replicas;
    match &target.source {
        MetricSource::ResourceUtilization {
            target_percent,
            resource,
            requests,
        } => {
            let samples = convert(pod_samples(target, obs)?, whole_milli);
            let calc = PodCalc::new(obs, samples, *resource == ResourceKind::Cpu, readiness)?;
            calc.utilization(&target.name, current, *target_percent, requests, tolerances)
        }
        MetricSource::ResourceAverageValue {
            target_milli,
            resource,
        } => {
            let samples = convert(pod_samples(target, obs)?, whole_milli);
            let calc = PodCalc::new(obs, samples, *resource == ResourceKind::Cpu, readiness)?;
            Ok(calc.plain(current, *target_milli, tolerances))
        }
        MetricSource::PodsAverageValue { target: t } => {
            let samples = convert(pod_samples(target, obs)?, milli_value);
            let calc = PodCalc::new(obs, samples, false, readiness)?;
            Ok(calc.plain(current, milli_value(*t), tolerances))
        }
        MetricSource::ObjectValue { target: t } | MetricSource::ExternalValue { target: t } => {
            let usage = object_value(target, obs)?;
            value_replicas(current, usage, milli_value(*t), &obs.pods, tolerances)
        }
        MetricSource::ObjectAverageValue { target: t }
        | MetricSource::ExternalAverageValue { target: t } => {
            let usage = object_value(target, obs)?;
            let status_replicas = active_pod_count(&obs.pods);
            Ok(average_value_replicas(
                status_replicas,
                usage,
                milli_value(*t),
                tolerances,
            ))
        }
    }
}

/// The samples of a pod metric; none at all is an error ("no metrics returned").
fn pod_samples<'a>(
    target: &MetricTarget,
    obs: &'a Observation,
) -> Result<&'a BTreeMap<String, PodSample>, MetricError> {
    match obs.pod_metrics.get(&target.name) {
        Some(samples) if !samples.is_empty() => Ok(samples),
        _ => Err(MetricError::NoSamples {
            metric: target.name.clone(),
        }),
    }
}

fn object_value(target: &MetricTarget, obs: &Observation) -> Result<i64, MetricError> {
    obs.object_metrics
        .get(&target.name)
        .map(|v| milli_value(*v))
        .ok_or_else(|| MetricError::NoValue {
            metric: target.name.clone(),
        })
}

fn convert(samples: &BTreeMap<String, PodSample>, to_milli: fn(f64) -> i64) -> Converted<'_> {
    Converted {
        raw: samples,
        milli: samples
            .iter()
            .map(|(pod, s)| (pod.clone(), to_milli(s.value)))
            .collect(),
    }
}

/// Samples as observed (for readiness timing) and as integer milli-units.
struct Converted<'a> {
    raw: &'a BTreeMap<String, PodSample>,
    milli: BTreeMap<String, i64>,
}

/// The shared first half of the pod-based calculations: grouped pods and the samples
/// that survive the grouping.
struct PodCalc<'a> {
    pods: &'a [PodStatus],
    groups: PodGroups,
    /// Trusted samples (plus samples of pods not in the list).
    samples: BTreeMap<String, i64>,
}

impl<'a> PodCalc<'a> {
    fn new(
        obs: &'a Observation,
        samples: Converted<'a>,
        cpu_rules: bool,
        readiness: &CpuReadiness,
    ) -> Result<Self, MetricError> {
        let Converted { raw, mut milli } = samples;
        if obs.pods.is_empty() {
            return Err(MetricError::NoPods);
        }
        let groups = group_pods(&obs.pods, raw, cpu_rules, readiness, obs.now);
        for pod in groups.ignored.iter().chain(&groups.unready) {
            milli.remove(pod);
        }
        if milli.is_empty() {
            return Err(MetricError::NoTargetedPodSamples);
        }
        Ok(PodCalc {
            pods: &obs.pods,
            groups,
            samples: milli,
        })
    }

    /// Upstream `GetResourceReplicas`.
    fn utilization(
        mut self,
        metric: &str,
        current: i32,
        target_percent: i32,
        requests: &ResourceRequests,
        tolerances: &Tolerances,
    ) -> Result<MetricValue, MetricError> {
        let requests = self
            .pods
            .iter()
            .map(|pod| {
                requests
                    .for_pod(&pod.name)
                    .map(|r| (pod.name.clone(), r))
                    .ok_or_else(|| MetricError::MissingRequest {
                        metric: metric.to_string(),
                        pod: pod.name.clone(),
                    })
            })
            .collect::<Result<BTreeMap<_, _>, _>>()?;
        let first = resource_utilization(&self.samples, &requests, target_percent)?;
        let value = |replicas| MetricValue {
            replicas,
            utilization_percent: Some(first.percent),
            current_milli: first.raw_average_milli,
        };
        let ratio = first.ratio;
        if !self.rebalance_needed(ratio) {
            return Ok(value(fast_path(
                current,
                ratio,
                self.groups.ready_count,
                tolerances,
            )));
        }
        if ratio < 1.0 {
            // A missing pod is assumed to use all of its request, or the target when
            // the target is above 100%.
            let fallback = i64::from(target_percent.max(100));
            for pod in &self.groups.missing {
                let request = requests.get(pod).copied().unwrap_or(0);
                self.samples
                    .insert(pod.clone(), request.saturating_mul(fallback) / 100);
            }
        } else if ratio > 1.0 {
            self.fill_missing(0);
        }
        self.fill_unready_on_scale_up(ratio);
        let second = resource_utilization(&self.samples, &requests, target_percent)?;
        Ok(value(self.rebalanced(
            current,
            ratio,
            second.ratio,
            tolerances,
        )))
    }

    /// Upstream `calcPlainMetricReplicas` (resource average values and pods metrics).
    fn plain(mut self, current: i32, target_milli: i64, tolerances: &Tolerances) -> MetricValue {
        let (ratio, usage) = metric_usage(&self.samples, target_milli);
        let value = |replicas| MetricValue {
            replicas,
            utilization_percent: None,
            current_milli: usage,
        };
        if !self.rebalance_needed(ratio) {
            return value(fast_path(
                current,
                ratio,
                self.groups.ready_count,
                tolerances,
            ));
        }
        if ratio < 1.0 {
            self.fill_missing(target_milli);
        } else if ratio > 1.0 {
            self.fill_missing(0);
        }
        self.fill_unready_on_scale_up(ratio);
        let (new_ratio, _) = metric_usage(&self.samples, target_milli);
        value(self.rebalanced(current, ratio, new_ratio, tolerances))
    }

    /// Missing pods, or unready pods on a scale-up, call for the second pass.
    fn rebalance_needed(&self, ratio: f64) -> bool {
        self.scale_up_with_unready(ratio) || !self.groups.missing.is_empty()
    }

    fn scale_up_with_unready(&self, ratio: f64) -> bool {
        !self.groups.unready.is_empty() && ratio > 1.0
    }

    fn fill_missing(&mut self, value: i64) {
        for pod in &self.groups.missing {
            self.samples.insert(pod.clone(), value);
        }
    }

    /// On a scale-up, unready pods count as using nothing.
    fn fill_unready_on_scale_up(&mut self, ratio: f64) {
        if self.scale_up_with_unready(ratio) {
            for pod in &self.groups.unready {
                self.samples.insert(pod.clone(), 0);
            }
        }
    }

    /// The second pass: keep the current count when the new ratio is within
    /// tolerance or the fill-ins, or the changed sample count, flip the direction.
    fn rebalanced(&self, current: i32, ratio: f64, new_ratio: f64, tolerances: &Tolerances) -> i32 {
        if tolerances.is_within(new_ratio)
            || (ratio < 1.0 && new_ratio > 1.0)
            || (ratio > 1.0 && new_ratio < 1.0)
        {
            return current;
        }
        let proposed = ceil_replicas(new_ratio * self.samples.len() as f64);
        if (new_ratio < 1.0 && proposed > current) || (new_ratio > 1.0 && proposed < current) {
            return current;
        }
        proposed
    }
}

/// No unready or missing pods to account for: scale by the ratio over ready pods.
fn fast_path(current: i32, ratio: f64, ready_count: usize, tolerances: &Tolerances) -> i32 {
    if tolerances.is_within(ratio) {
        current
    } else {
        ceil_replicas(ratio * ready_count as f64)
    }
}

/// Upstream `getUsageRatioReplicaCount` (object and external `Value` targets).
fn value_replicas(
    current: i32,
    usage: i64,
    target_milli: i64,
    pods: &[PodStatus],
    tolerances: &Tolerances,
) -> Result<MetricValue, MetricError> {
    let ratio = usage as f64 / target_milli as f64;
    let replicas = if current != 0 {
        if tolerances.is_within(ratio) {
            current
        } else {
            if pods.is_empty() {
                return Err(MetricError::NoPods);
            }
            let ready = pods
                .iter()
                .filter(|p| p.phase == PodPhase::Running && p.ready)
                .count();
            ceil_replicas(ratio * ready as f64)
        }
    } else {
        // Scale from zero: neither ready pods nor tolerance apply.
        ceil_replicas(ratio)
    };
    Ok(MetricValue {
        replicas,
        utilization_percent: None,
        current_milli: usage,
    })
}

/// Upstream `GetObjectPerPodMetricReplicas` / `GetExternalPerPodMetricReplicas`.
fn average_value_replicas(
    status_replicas: i32,
    usage: i64,
    target_milli: i64,
    tolerances: &Tolerances,
) -> MetricValue {
    let ratio = usage as f64 / (target_milli as f64 * f64::from(status_replicas));
    let replicas = if tolerances.is_within(ratio) {
        status_replicas
    } else {
        ceil_replicas(usage as f64 / target_milli as f64)
    };
    // Upstream divides by zero here when no pod exists; report the total instead.
    let current_milli = if status_replicas == 0 {
        usage
    } else {
        (usage as f64 / f64::from(status_replicas)).ceil() as i64
    };
    MetricValue {
        replicas,
        utilization_percent: None,
        current_milli,
    }
}

/// `int32(math.Ceil(x))`, saturating at the `i32` bounds (upstream caps at MaxInt32).
fn ceil_replicas(x: f64) -> i32 {
    x.ceil() as i32
}

/// Upstream `scale.status.replicas`: pods that are neither terminated nor being deleted.
fn active_pod_count(pods: &[PodStatus]) -> i32 {
    let active = pods
        .iter()
        .filter(|p| !p.deleting && !matches!(p.phase, PodPhase::Failed | PodPhase::Succeeded))
        .count();
    i32::try_from(active).unwrap_or(i32::MAX)
}
