//! Pods as the engine and the scrape plan see them: a Kubernetes `Pod` becomes a
//! [`PodStatus`] (phase, Ready and its transition time, start and creation time,
//! deletion) and, when it has an IP, a [`PodAddress`] to scrape.

use control::scrape_plan::PodAddress;
use engine::observation::{PodPhase, PodStatus};
use engine::time::Micros;
use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use std::collections::BTreeMap;

/// Unix µs of a Kubernetes time.
pub fn unix_us(time: &Time) -> Micros {
    time.0.as_microsecond()
}

/// The engine's view of `pod`.
pub fn pod_status(pod: &Pod) -> PodStatus {
    let status = pod.status.as_ref();
    let ready_condition = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|conditions| conditions.iter().find(|c| c.type_ == "Ready"));
    PodStatus {
        name: pod.metadata.name.clone().unwrap_or_default(),
        phase: match status.and_then(|s| s.phase.as_deref()) {
            Some("Pending") => PodPhase::Pending,
            Some("Running") => PodPhase::Running,
            Some("Succeeded") => PodPhase::Succeeded,
            Some("Failed") => PodPhase::Failed,
            _ => PodPhase::Unknown,
        },
        ready: ready_condition.is_some_and(|c| c.status == "True"),
        start_time: status.and_then(|s| s.start_time.as_ref()).map(unix_us),
        ready_transition_time: ready_condition
            .and_then(|c| c.last_transition_time.as_ref())
            .map(unix_us),
        deleting: pod.metadata.deletion_timestamp.is_some(),
        creation_time: pod.metadata.creation_timestamp.as_ref().map(unix_us),
        spot: false,
    }
}

/// The pod's summed container requests of each of `resources` (`cpu`, `memory`), in
/// milli-units: the denominator of utilization targets. A resource no container
/// requests is absent (the HPA then cannot compute utilization for that pod).
pub fn requests(pod: &Pod, resources: &[String]) -> BTreeMap<String, i64> {
    let mut totals = BTreeMap::new();
    let containers = pod
        .spec
        .as_ref()
        .map(|s| s.containers.as_slice())
        .unwrap_or_default();
    for resource in resources {
        let mut total = None;
        for container in containers {
            let quantity = container
                .resources
                .as_ref()
                .and_then(|r| r.requests.as_ref())
                .and_then(|requests| requests.get(resource));
            if let Some(milli) = quantity.and_then(|q| engine::spec::parse_milli(&q.0).ok()) {
                *total.get_or_insert(0) += milli;
            }
        }
        if let Some(total) = total {
            totals.insert(resource.clone(), total);
        }
    }
    totals
}

/// The IP of the node `pod` runs on (`status.hostIP`), where its GPUs' exporter is.
pub fn host_ip(pod: &Pod) -> Option<String> {
    pod.status.as_ref()?.host_ip.clone()
}

/// Where to scrape `pod`: only a running pod with an IP that is not being deleted.
pub fn pod_address(pod: &Pod) -> Option<PodAddress> {
    let status = pod.status.as_ref()?;
    if pod.metadata.deletion_timestamp.is_some() || status.phase.as_deref() != Some("Running") {
        return None;
    }
    Some(PodAddress {
        name: pod.metadata.name.clone()?,
        ip: status.pod_ip.clone()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(json: serde_json::Value) -> Pod {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn a_ready_pod_carries_its_times_and_address() {
        let p = pod(serde_json::json!({
            "metadata": {"name": "llama-0", "creationTimestamp": "2026-12-04T10:00:00Z"},
            "status": {
                "phase": "Running", "podIP": "10.0.0.7", "startTime": "2026-12-04T10:00:05Z",
                "conditions": [
                    {"type": "Initialized", "status": "True", "lastTransitionTime": "2026-12-04T10:00:01Z"},
                    {"type": "Ready", "status": "True", "lastTransitionTime": "2026-12-04T10:03:00Z"}
                ]
            }
        }));
        let status = pod_status(&p);
        let created = 1_796_378_400_000_000;
        assert_eq!(status.creation_time, Some(created));
        assert_eq!(status.start_time, Some(created + 5_000_000));
        assert_eq!(status.ready_transition_time, Some(created + 180_000_000));
        assert!(status.is_ready());
        assert!(!status.deleting);
        assert_eq!(pod_address(&p).unwrap().ip, "10.0.0.7");
    }

    #[test]
    fn requests_are_summed_over_containers_in_milli_units() {
        let p = pod(serde_json::json!({
            "metadata": {"name": "a"},
            "spec": {"containers": [
                {"name": "vllm", "resources": {"requests": {"cpu": "2", "memory": "1Gi"}}},
                {"name": "sidecar", "resources": {"requests": {"cpu": "250m"}}},
                {"name": "bare"}
            ]}
        }));
        let wanted = [
            "cpu".to_string(),
            "memory".to_string(),
            "ephemeral-storage".to_string(),
        ];
        let totals = requests(&p, &wanted);
        assert_eq!(totals["cpu"], 2250);
        assert_eq!(totals["memory"], (1i64 << 30) * 1000);
        assert!(!totals.contains_key("ephemeral-storage"));
    }

    #[test]
    fn pending_or_deleting_pods_are_not_scraped_and_not_ready() {
        let pending =
            pod(serde_json::json!({"metadata": {"name": "a"}, "status": {"phase": "Pending"}}));
        assert_eq!(pod_status(&pending).phase, PodPhase::Pending);
        assert!(pod_address(&pending).is_none());
        let deleting = pod(serde_json::json!({
            "metadata": {"name": "b", "deletionTimestamp": "2026-12-04T10:00:00Z"},
            "status": {"phase": "Running", "podIP": "10.0.0.8",
                       "conditions": [{"type": "Ready", "status": "False"}]}
        }));
        let status = pod_status(&deleting);
        assert!(status.deleting && !status.ready);
        assert!(pod_address(&deleting).is_none());
        let bare = pod(serde_json::json!({"metadata": {"name": "c"}}));
        assert_eq!(pod_status(&bare).phase, PodPhase::Unknown);
    }
}
