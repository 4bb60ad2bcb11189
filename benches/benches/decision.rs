//! One engine decision per strategy, on a realistic observation (8 ready pods, one
//! metric), with the scaler state carried across iterations as in a live loop.

use criterion::{Criterion, criterion_group, criterion_main};
use engine::Scaler;
use engine::observation::{Observation, PodPhase, PodSample, PodStatus};
use engine::spec::BudAIScaler;
use engine::time::{Micros, SECOND};
use std::collections::BTreeMap;
use std::hint::black_box;

fn manifest(name: &str) -> BudAIScaler {
    let path = format!(
        "{}/../scenarios/scalers/{name}.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_saphyr::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn observation(now: Micros, metric: &str, value: f64) -> Observation {
    let pods: Vec<PodStatus> = (0..8)
        .map(|i| PodStatus {
            name: format!("llm-{i}"),
            phase: PodPhase::Running,
            ready: true,
            start_time: Some(0),
            ready_transition_time: Some(0),
            deleting: false,
            creation_time: None,
        })
        .collect();
    let samples = pods
        .iter()
        .map(|p| {
            let sample = PodSample {
                timestamp: now,
                window: 15 * SECOND,
                value,
            };
            (p.name.clone(), sample)
        })
        .collect();
    Observation {
        now,
        current_replicas: 8,
        pods,
        pod_metrics: BTreeMap::from([(metric.to_string(), samples)]),
        ..Observation::default()
    }
}

fn decisions(c: &mut Criterion) {
    for (name, metric, value) in [
        ("hpa", "num_requests_waiting", 4.2),
        ("kpa", "concurrency", 15.0),
        ("budscaler", "num_requests_waiting", 4.2),
    ] {
        let mut scaler = Scaler::new(&manifest(name)).unwrap();
        let mut obs = observation(1000 * SECOND, metric, value);
        c.bench_function(&format!("decide/{name}"), |b| {
            b.iter(|| {
                obs.now += 2 * SECOND;
                black_box(scaler.decide(black_box(&obs)))
            })
        });
    }
}

criterion_group!(benches, decisions);
criterion_main!(benches);
