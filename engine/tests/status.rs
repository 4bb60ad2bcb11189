//! The status a driver writes, from decisions: seed CRD names, history of applied and
//! not-applied changes, conditions with their transition times, the forecast.

use engine::Scaler;
use engine::observation::{Observation, PodSample, PodStatus};
use engine::spec::BudAIScaler;
use engine::status::{Applied, ScalerStatus};
use engine::time::{Micros, seconds};
use std::collections::BTreeMap;

fn hpa() -> Scaler {
    let manifest: BudAIScaler = serde_saphyr::from_str(
        "apiVersion: scaler.bud.studio/v1alpha1\nkind: BudAIScaler\nmetadata: { name: s }\nspec:\n  scaleTargetRef: { kind: Deployment, name: llm }\n  scalingStrategy: HPA\n  maxReplicas: 4\n  metricsSources:\n    - { metricSourceType: pod, targetMetric: q, targetValue: \"4\" }\n",
    )
    .unwrap();
    Scaler::new(&manifest).unwrap()
}

fn observe(now: Micros, current: i32, value: f64) -> Observation {
    let pods: Vec<PodStatus> = (0..current)
        .map(|i| PodStatus::ready_since(format!("p{i}"), 0))
        .collect();
    let samples = pods
        .iter()
        .map(|p| {
            (
                p.name.clone(),
                PodSample {
                    timestamp: now,
                    window: seconds(15),
                    value,
                },
            )
        })
        .collect();
    Observation {
        now,
        current_replicas: current,
        pods,
        pod_metrics: BTreeMap::from([("q".to_string(), samples)]),
        ..Observation::default()
    }
}

const T0: Micros = 1_780_272_000 * 1_000_000; // 2026-06-01T00:00:00Z

#[test]
fn the_status_follows_decisions_with_the_seeds_names() {
    let mut scaler = hpa();
    let mut status = ScalerStatus::default();
    // 1 pod with 12 waiting asks for 3 (clamped by nothing): applied.
    let d = scaler.decide(&observe(T0, 1, 12.0));
    assert_eq!(d.desired_replicas, 3);
    status.update(&d, 3, Applied::Yes, T0);
    assert_eq!(status.desired_scale, Some(3));
    assert_eq!(status.actual_scale, Some(3));
    assert_eq!(
        status.last_scale_time.as_deref(),
        Some("2026-06-01T00:00:00Z")
    );
    assert_eq!(status.scaling_history.len(), 1);
    assert!(status.scaling_history[0].success);
    assert_eq!(status.scaling_history[0].algorithm, "HPA");
    let limited = status
        .conditions
        .iter()
        .find(|c| c.kind == "ScalingLimited")
        .unwrap();
    assert_eq!(
        (limited.status.as_str(), limited.reason.as_str()),
        ("False", "DesiredWithinRange")
    );
    // 3 pods with 40 waiting ask for 30, clamped to 4: a shadow driver never applies it.
    let later = T0 + seconds(60);
    let d = scaler.decide(&observe(later, 3, 40.0));
    assert_eq!(d.desired_replicas, 4);
    scaler.not_applied(&d);
    status.update(&d, 3, Applied::Shadow, later);
    assert_eq!(status.actual_scale, Some(3), "the target's real count");
    assert_eq!(
        status.last_scale_time.as_deref(),
        Some("2026-06-01T00:00:00Z"),
        "nothing was scaled"
    );
    assert!(!status.scaling_history[1].success);
    let limited = status
        .conditions
        .iter()
        .find(|c| c.kind == "ScalingLimited")
        .unwrap();
    assert_eq!(
        (limited.status.as_str(), limited.reason.as_str()),
        ("True", "TooManyReplicas")
    );
    assert_eq!(limited.last_transition_time, "2026-06-01T00:01:00Z");
    let able = status
        .conditions
        .iter()
        .find(|c| c.kind == "AbleToScale")
        .unwrap();
    assert_eq!(
        able.last_transition_time, "2026-06-01T00:00:00Z",
        "unchanged status keeps its time"
    );
    // The JSON uses the seed's names.
    let json = serde_json::to_value(&status).unwrap();
    for key in [
        "desiredScale",
        "actualScale",
        "lastScaleTime",
        "conditions",
        "scalingHistory",
    ] {
        assert!(json.get(key).is_some(), "{key} in {json}");
    }
    assert!(json["conditions"][0].get("type").is_some());
    assert!(json["scalingHistory"][0].get("previousScale").is_some());
    // The history keeps the last ten changes.
    for i in 0..15 {
        let t = later + seconds(60 * (i + 1));
        let d = scaler.decide(&observe(t, 1 + (i % 2) as i32, 40.0 * (i % 2) as f64));
        status.update(&d, d.desired_replicas, Applied::Yes, t);
    }
    assert!(status.scaling_history.len() <= engine::status::HISTORY);
}
