//! One engine decision per strategy, on a realistic observation (8 ready pods, one
//! metric), with the scaler state carried across iterations as in a live loop; and
//! `budscaler_full`: BudScaler with every feature on, warmed up over eight days of
//! varying load before it is measured.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use engine::Scaler;
use engine::observation::{
    CostObservation, GpuDevice, GpuSample, LatencyWindow, Observation, PodPhase, PodSample,
    PodStatus, ServingSample,
};
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
            spot: false,
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

/// BudScaler with everything on: forecasting (`combined`: last-value, Holt and the
/// seasonal profile, calibrated quantile), seasonal learning in a time zone, two
/// schedule hints in Europe/Berlin, the starting-pods gate, a KV fraction and a TTFT
/// latency guard, demand smoothing and the spike threshold.
const FULL: &str = r#"
apiVersion: scaler.bud.studio/v1alpha1
kind: BudAIScaler
metadata: { name: budscaler-full }
spec:
  scaleTargetRef: { apiVersion: apps/v1, kind: Deployment, name: llm }
  minReplicas: 1
  maxReplicas: 64
  scalingStrategy: BudScaler
  metricsSources:
    - metricSourceType: inferenceEngine
      targetMetric: gpu_cache_usage_perc
      targetValue: "0.9"
      inferenceEngineConfig: { engineType: vllm }
    - metricSourceType: inferenceEngine
      targetMetric: ttft_p90
      targetValue: "1.5"
      inferenceEngineConfig: { engineType: vllm }
  predictionConfig:
    enabled: true
    predictor: combined
    minConfidence: "0.5"
    enableLearning: true
    historicalDataDays: 7
    timeZone: Europe/Berlin
  scheduleHints:
    - { name: business-hours, cronExpression: "0 8 * * 1-5", targetReplicas: 6, duration: 10h, timeZone: Europe/Berlin }
    - { name: nightly-batch, cronExpression: "30 22 * * *", targetReplicas: 4, duration: 2h, timeZone: Europe/Berlin }
  behavior:
    scaleUp:
      stabilizationWindowSeconds: 0
      startingPods: { startingPodWeight: 0.5, maxStartingPods: 4, maxStartingPodPercent: 50, bypassGateOnPanic: true }
    scaleDown:
      stabilizationWindowSeconds: 300
  kpaConfig: { stableWindow: 60s, panicThresholdPercentage: 200 }
  costConfig: { enabled: true, budgetPerHour: "200", budgetPerDay: "3000", preferSpotInstances: true, maxSpotPercentage: 50 }
  gpuConfig: { enabled: true, gpuMemoryThreshold: 80, gpuComputeThreshold: 60 }
"#;

/// Monday 2024-01-01 00:00 UTC, the wall clock at `now = 0`.
const EPOCH_UNIX_US: Micros = 1_704_067_200 * SECOND;
/// The sync period: every decision is 15 s after the previous one.
const TICK: Micros = 15 * SECOND;
/// A replica is created every 20 minutes; it starts for 3 minutes, serves for 2 and is
/// removed (so cold starts are seen and the starting-pods gate has work).
const CYCLE: Micros = 1200 * SECOND;
const COLD_START: Micros = 180 * SECOND;
const EXTRA_LIFE: Micros = 300 * SECOND;

/// Load relative to the mean at `now`: a daily cycle peaking mid-afternoon, a weekend
/// dip, and a deterministic wobble so forecasters see errors.
fn load_factor(now: Micros) -> f64 {
    let hours = now as f64 / 3.6e9;
    let day = (2.0 * std::f64::consts::PI * (hours - 9.0) / 24.0).sin();
    let weekend = if (hours / 24.0) as i64 % 7 >= 5 {
        0.6
    } else {
        1.0
    };
    let wobble = 0.08 * (now / TICK % 7) as f64 / 7.0;
    (1.0 + 0.6 * day) * weekend + wobble
}

/// The observation at `now`: 8 ready replicas (plus the replica of the current cycle,
/// starting or serving), each with a full serving sample and the two metrics.
fn full_observation(now: Micros) -> Observation {
    let ready_pod = |name: String, since: Micros| PodStatus {
        name,
        phase: PodPhase::Running,
        ready: true,
        start_time: Some(since),
        ready_transition_time: Some(since),
        deleting: false,
        creation_time: Some(since - COLD_START),
        spot: false,
    };
    let mut pods: Vec<PodStatus> = (0..8).map(|i| ready_pod(format!("llm-{i}"), 0)).collect();
    let cycle_start = now - now.rem_euclid(CYCLE);
    let extra = format!("llm-x{}", cycle_start / CYCLE);
    let age = now - cycle_start;
    if age < COLD_START {
        pods.push(PodStatus {
            ready: false,
            ready_transition_time: None,
            creation_time: Some(cycle_start),
            ..ready_pod(extra, cycle_start)
        });
    } else if age < EXTRA_LIFE {
        pods.push(ready_pod(extra, cycle_start + COLD_START));
    }
    let f = load_factor(now);
    let mut serving = BTreeMap::new();
    let mut kv = BTreeMap::new();
    let mut ttft = BTreeMap::new();
    let mut gpu = BTreeMap::new();
    for (i, pod) in pods.iter().enumerate().filter(|(_, p)| p.ready) {
        let share = f * (1.0 + 0.03 * i as f64);
        let waiting = (12.0 * (share - 1.35)).max(0.0).round();
        let kv_use = (0.45 * share).min(0.97);
        let ttft_p90 = 0.25 + 1.5 * (share - 1.0).max(0.0);
        serving.insert(
            pod.name.clone(),
            ServingSample {
                timestamp: now,
                window: TICK,
                running: Some((48.0 * share).round()),
                waiting: Some(waiting),
                kv_cache_usage: Some(kv_use),
                prompt_tokens_per_s: Some(2400.0 * share),
                generation_tokens_per_s: Some(950.0 * share),
                requests_per_s: Some(3.2 * share),
                ttft: Some(LatencyWindow {
                    count: 48.0 * share,
                    mean_s: ttft_p90 * 0.6,
                    p50_s: ttft_p90 * 0.5,
                    p90_s: ttft_p90,
                    p99_s: ttft_p90 * 1.6,
                }),
                itl: Some(LatencyWindow {
                    count: 14_000.0 * share,
                    mean_s: 0.024 * share,
                    p50_s: 0.022 * share,
                    p90_s: 0.031 * share,
                    p99_s: 0.045 * share,
                }),
                queue_time: Some(LatencyWindow {
                    count: 60.0 * share,
                    mean_s: 0.05 * share,
                    p50_s: 0.02 * share,
                    p90_s: 0.12 * share,
                    p99_s: 0.3 * share,
                }),
            },
        );
        let sample = |value| PodSample {
            timestamp: now,
            window: TICK,
            value,
        };
        kv.insert(pod.name.clone(), sample(kv_use));
        // Tensor parallel 2: one DCGM reading per GPU.
        let devices = (0..2)
            .map(|g| GpuDevice {
                id: g.to_string(),
                model: Some("NVIDIA H100 80GB HBM3".to_string()),
                utilization_percent: Some(100.0),
                memory_used_mib: Some(72_000.0),
                memory_free_mib: Some(9_000.0),
                power_watts: Some(500.0),
                power_limit_watts: None,
                tensor_active: Some((0.35 * share + 0.02 * f64::from(g)).min(1.0)),
            })
            .collect();
        gpu.insert(pod.name.clone(), GpuSample { devices });
        ttft.insert(pod.name.clone(), sample(ttft_p90));
    }
    Observation {
        now,
        current_replicas: pods.len() as i32,
        pods,
        pod_metrics: BTreeMap::from([
            ("gpu_cache_usage_perc".to_string(), kv),
            ("ttft_p90".to_string(), ttft),
        ]),
        wall_clock: Some(EPOCH_UNIX_US + now),
        serving,
        gpu,
        // Priced as H100s; spend accrues at 8 replicas' rate.
        cost: Some(CostObservation {
            on_demand_per_replica_hour: 6.88,
            spot_per_replica_hour: 3.10,
            spent: now as f64 / 3.6e9 * 8.0 * 6.88,
            spot_interruptions_last_hour: 0,
        }),
        ..Observation::default()
    }
}

fn budscaler_full(c: &mut Criterion) {
    let manifest: BudAIScaler = serde_saphyr::from_str(FULL).unwrap();
    let mut scaler = Scaler::new(&manifest).unwrap();
    // Warm: eight days of decisions every 15 s, so capacity, cold starts, Holt, a whole
    // week of seasonal buckets, the error history and the calibration are populated.
    let mut now = 0;
    while now < 8 * 24 * 3600 * SECOND {
        now += TICK;
        black_box(scaler.decide(&full_observation(now)));
    }
    let warm = scaler.decide(&full_observation(now + TICK));
    assert!(
        warm.forecast.is_some(),
        "the warmed scaler forecasts: {}",
        warm.message
    );
    now += TICK;
    // Measured: one decision per iteration, the clock 15 s on each time; building the
    // observation is setup, not measured.
    c.bench_function("decide/budscaler_full", |b| {
        b.iter_batched(
            || {
                now += TICK;
                full_observation(now)
            },
            |obs| black_box(scaler.decide(black_box(&obs))),
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, decisions, budscaler_full);
criterion_main!(benches);
