//! What the operator's replicas cost, for scalers with `costConfig.enabled`: each pod's
//! node says its instance type and whether it is spot (well-known node labels), the
//! shared price catalog (`control::pricing`, the simulator's too) prices the instance
//! under `costConfig.cloudProvider`, and a replica costs its share of the instance:
//! `price ÷ GPUs per instance × the pod's nvidia.com/gpu`. The spend is metered here
//! (replica-hours as they pass); the engine only uses its differences, so it restarts
//! from zero with the operator.

use control::pricing::PriceCatalog;
use engine::observation::CostObservation;
use engine::time::Micros;
use k8s_openapi::api::core::v1::{Node, Pod};
use std::collections::BTreeMap;

/// Node labels naming the instance type, in the order tried.
pub const INSTANCE_TYPE_LABELS: [&str; 2] = [
    "node.kubernetes.io/instance-type",
    "beta.kubernetes.io/instance-type",
];

/// Node labels (with their value) that mark spot or preemptible capacity: Karpenter,
/// EKS managed node groups, GKE spot and preemptible VMs, AKS spot node pools.
pub const SPOT_LABELS: [(&str, &str); 5] = [
    ("karpenter.sh/capacity-type", "spot"),
    ("eks.amazonaws.com/capacityType", "SPOT"),
    ("cloud.google.com/gke-spot", "true"),
    ("cloud.google.com/gke-preemptible", "true"),
    ("kubernetes.azure.com/scalesetpriority", "spot"),
];

/// The GPU resource a pod asks for.
pub const GPU_RESOURCE: &str = "nvidia.com/gpu";

/// What a node's labels say about its price.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeFacts {
    pub instance_type: Option<String>,
    pub spot: bool,
}

/// The facts of `node`.
pub fn node_facts(node: &Node) -> NodeFacts {
    let labels = node.metadata.labels.as_ref();
    let label = |name: &str| labels.and_then(|l| l.get(name));
    NodeFacts {
        instance_type: INSTANCE_TYPE_LABELS
            .iter()
            .find_map(|name| label(name).cloned()),
        spot: SPOT_LABELS
            .iter()
            .any(|(name, value)| label(name).is_some_and(|v| v.eq_ignore_ascii_case(value))),
    }
}

/// GPUs a pod holds: its containers' `nvidia.com/gpu` limits (requests where no limit
/// is written), summed.
pub fn pod_gpus(pod: &Pod) -> u32 {
    let Some(spec) = &pod.spec else { return 0 };
    spec.containers
        .iter()
        .filter_map(|c| c.resources.as_ref())
        .filter_map(|r| {
            r.limits
                .as_ref()
                .and_then(|l| l.get(GPU_RESOURCE))
                .or_else(|| r.requests.as_ref().and_then(|q| q.get(GPU_RESOURCE)))
        })
        .filter_map(|q| q.0.trim().parse::<u32>().ok())
        .sum()
}

/// Replica-hour prices of the fleet, from its pods' nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaPrices {
    pub on_demand: f64,
    /// The spot price; the on-demand one where the catalog has no spot price.
    pub spot: f64,
}

/// Prices one replica from the instance most of `pods` (name, GPUs, node facts) run on.
/// Errors name the source (`price NODE` style keys are the caller's) and why.
pub fn replica_prices(
    catalog: &PriceCatalog,
    provider: &str,
    pods: &[(String, u32, NodeFacts)],
) -> Result<ReplicaPrices, String> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (_, _, facts) in pods {
        if let Some(instance) = &facts.instance_type {
            *counts.entry(instance).or_default() += 1;
        }
    }
    let instance = counts
        .iter()
        .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        .map(|(instance, _)| *instance)
        .ok_or("no pod's node has an instance-type label")?;
    let row = catalog
        .lookup(provider, instance)
        .map_err(|e| e.to_string())?;
    let gpus = pods
        .iter()
        .map(|(_, gpus, _)| *gpus)
        .max()
        .filter(|&g| g > 0)
        .unwrap_or(row.gpus);
    let share = f64::from(gpus) / f64::from(row.gpus);
    Ok(ReplicaPrices {
        on_demand: row.on_demand * share,
        spot: row.spot.unwrap_or(row.on_demand) * share,
    })
}

/// The spend of one scaler's fleet, metered tick by tick at the fleet's hourly cost.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpendMeter {
    spent: f64,
    last: Option<(Micros, f64)>,
}

impl SpendMeter {
    /// The spend through `now`: the previous tick's hourly cost over the time since,
    /// added; `hourly` is the cost from now on.
    pub fn advance(&mut self, now: Micros, hourly: f64) -> f64 {
        if let Some((at, rate)) = self.last
            && now > at
        {
            self.spent += rate * (now - at) as f64 / 3_600_000_000.0;
        }
        self.last = Some((now, hourly));
        self.spent
    }
}

/// The cost observation of a fleet of `statuses` (spot flags set) at `prices`.
pub fn cost_observation(
    statuses: &[engine::observation::PodStatus],
    prices: &ReplicaPrices,
    meter: &mut SpendMeter,
    now: Micros,
) -> CostObservation {
    let hourly: f64 = statuses
        .iter()
        .filter(|p| !p.deleting)
        .map(|p| {
            if p.spot {
                prices.spot
            } else {
                prices.on_demand
            }
        })
        .sum();
    CostObservation {
        on_demand_per_replica_hour: prices.on_demand,
        spot_per_replica_hour: prices.spot,
        spent: meter.advance(now, hourly),
        spot_interruptions_last_hour: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

    fn node(labels: &[(&str, &str)]) -> Node {
        let mut node = Node::default();
        node.metadata.labels = Some(
            labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        );
        node
    }

    #[test]
    fn node_labels_say_the_instance_and_the_capacity_type() {
        let facts = node_facts(&node(&[
            ("node.kubernetes.io/instance-type", "p5.48xlarge"),
            ("karpenter.sh/capacity-type", "spot"),
        ]));
        assert_eq!(facts.instance_type.as_deref(), Some("p5.48xlarge"));
        assert!(facts.spot);
        let gke = node_facts(&node(&[
            ("beta.kubernetes.io/instance-type", "a3-highgpu-8g"),
            ("cloud.google.com/gke-spot", "true"),
        ]));
        assert_eq!(gke.instance_type.as_deref(), Some("a3-highgpu-8g"));
        assert!(gke.spot);
        let on_demand = node_facts(&node(&[("eks.amazonaws.com/capacityType", "ON_DEMAND")]));
        assert_eq!(on_demand, NodeFacts::default());
    }

    #[test]
    fn a_replica_costs_its_share_of_the_instance() {
        let catalog = PriceCatalog::builtin();
        let facts = NodeFacts {
            instance_type: Some("p5.48xlarge".into()),
            spot: false,
        };
        let prices = replica_prices(catalog, "aws", &[("a".into(), 2, facts.clone())]).unwrap();
        assert!((prices.on_demand - 55.04 / 4.0).abs() < 1e-9);
        assert!((prices.spot - 24.80 / 4.0).abs() < 1e-9);
        // No GPU request: the whole instance.
        let whole = replica_prices(catalog, "aws", &[("a".into(), 0, facts)]).unwrap();
        assert!((whole.on_demand - 55.04).abs() < 1e-9);
        let unknown = replica_prices(
            catalog,
            "aws",
            &[(
                "a".into(),
                1,
                NodeFacts {
                    instance_type: Some("x9.mega".into()),
                    spot: false,
                },
            )],
        )
        .unwrap_err();
        assert!(
            unknown.contains("x9.mega") && unknown.contains("p5.48xlarge"),
            "{unknown}"
        );
        let unlabelled = replica_prices(catalog, "aws", &[("a".into(), 1, NodeFacts::default())]);
        assert!(unlabelled.unwrap_err().contains("instance-type"));
    }

    #[test]
    fn gpus_are_the_containers_limits_else_requests() {
        let mut pod = Pod::default();
        let container = |limit: Option<&str>, request: Option<&str>| {
            let mut c = k8s_openapi::api::core::v1::Container::default();
            let quantities = |q: Option<&str>| {
                q.map(|q| BTreeMap::from([(GPU_RESOURCE.to_string(), Quantity(q.to_string()))]))
            };
            c.resources = Some(k8s_openapi::api::core::v1::ResourceRequirements {
                limits: quantities(limit),
                requests: quantities(request),
                ..Default::default()
            });
            c
        };
        pod.spec = Some(k8s_openapi::api::core::v1::PodSpec {
            containers: vec![container(Some("4"), Some("4")), container(None, Some("1"))],
            ..Default::default()
        });
        assert_eq!(pod_gpus(&pod), 5);
    }

    #[test]
    fn the_meter_bills_each_interval_at_the_previous_ticks_rate() {
        let mut meter = SpendMeter::default();
        assert_eq!(meter.advance(0, 10.0), 0.0);
        assert_eq!(meter.advance(1_800_000_000, 20.0), 5.0);
        assert_eq!(meter.advance(3_600_000_000, 0.0), 15.0);
    }
}
