//! The same scenario and seed give byte-identical output files (CONTRACTS.md), apart
//! from `summary.json`'s `wall_s`, which the caller measures.

mod common;

use simulator::output;
use std::path::Path;

const SCENARIO: &str = "
name: determinism
seed: 11
trace:
  generate: { pattern: mmpp, duration: 10m, rate: 12 }
fleet:
  gpu: h100-80gb
  model: llama-3.1-8b
  initial_replicas: 1
  price_per_gpu_hour: 3
  lifecycle: { node_provisioning: { min: 20s, max: 40s }, image_pull: 10s }
slo: { ttft_s: 2, tpot_s: 0.1 }
scalers:
  - manifest:
      apiVersion: scaler.bud.studio/v1alpha1
      kind: BudAIScaler
      metadata: { name: hpa }
      spec:
        scaleTargetRef: { kind: Deployment, name: llm }
        minReplicas: 1
        maxReplicas: 6
        scalingStrategy: HPA
        metricsSources:
          - metricSourceType: inferenceEngine
            targetMetric: num_requests_waiting
            targetValue: '2'
            inferenceEngineConfig: { engineType: vllm }
  - static: { replicas: 2 }
";

/// Loads, runs and writes the scenario into `dir`.
fn simulate(dir: &Path) {
    common::simulate_in_memory(SCENARIO, dir, &dir.join("out"));
}

#[test]
fn two_runs_write_identical_files() {
    let (a, b) = (
        common::fresh_dir("determinism", "a"),
        common::fresh_dir("determinism", "b"),
    );
    simulate(&a);
    simulate(&b);
    let table = |name: &str| format!("{name}.{}", output::TABLE_EXTENSION);
    for file in [
        "summary.json".to_string(),
        "decisions.jsonl".to_string(),
        table("requests"),
        table("timeseries"),
        table("slo_timeseries"),
        table("latency_cdf"),
    ] {
        let left = std::fs::read(a.join("out").join(&file)).unwrap();
        let right = std::fs::read(b.join("out").join(&file)).unwrap();
        assert!(!left.is_empty(), "{file} is written");
        assert!(left == right, "{file} differs between identical runs");
    }
    let decisions = std::fs::read_to_string(a.join("out/decisions.jsonl")).unwrap();
    assert!(decisions.lines().count() > 10, "the HPA decided every tick");
    let first = decisions.lines().next().unwrap();
    let keys = [
        "time_s", "scaler", "strategy", "desired", "current", "reason", "in_panic", "metrics",
        "message",
    ];
    let positions: Vec<usize> = keys
        .iter()
        .map(|key| {
            first
                .find(&format!("\"{key}\":"))
                .unwrap_or_else(|| panic!("{key} in {first}"))
        })
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "stable key order: {first}"
    );
}

#[test]
fn the_summary_has_the_contract_fields_and_consistent_counts() {
    let dir = common::fresh_dir("determinism", "summary");
    simulate(&dir);
    let text = std::fs::read_to_string(dir.join("out/summary.json")).unwrap();
    let summary: serde_json::Value = serde_json::from_str(&text).unwrap();
    for key in ["scenario", "seed", "trace_requests", "runs", "wall_s"] {
        assert!(summary.get(key).is_some(), "summary.{key}");
    }
    let trace_requests = summary["trace_requests"].as_u64().unwrap();
    let runs = summary["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0]["scaler"], "hpa");
    assert_eq!(runs[0]["strategy"], "HPA");
    assert_eq!(runs[1]["scaler"], "static");
    assert_eq!(runs[1]["strategy"], "Static");
    for run in runs {
        for key in [
            "scaler",
            "strategy",
            "requests",
            "completed",
            "slo_attainment",
            "ttft_s",
            "tpot_s",
            "e2e_s",
            "gpu_hours",
            "cost_usd",
            "scale_events",
            "peak_replicas",
            "mean_replicas",
            "gpu_hours_vs_oracle",
        ] {
            assert!(run.get(key).is_some(), "runs[].{key}");
        }
        assert!(run["gpu_hours_vs_oracle"].is_null(), "no oracle: null");
        for key in ["mean", "p50", "p90", "p99"] {
            assert!(run["ttft_s"][key].is_f64(), "ttft_s.{key}");
        }
        assert_eq!(run["requests"].as_u64(), Some(trace_requests));
        let attainment = run["slo_attainment"].as_f64().unwrap();
        let completed = run["completed"].as_u64().unwrap() as f64;
        assert!(attainment <= completed / trace_requests as f64 + 1e-12);
        let cost = run["cost_usd"].as_f64().unwrap();
        let gpu_hours = run["gpu_hours"].as_f64().unwrap();
        assert!(
            (cost - 3.0 * gpu_hours).abs() < 1e-6,
            "on-demand at 3 USD/GPU-h"
        );
    }
    assert_eq!(runs[1]["peak_replicas"], 2);
}
