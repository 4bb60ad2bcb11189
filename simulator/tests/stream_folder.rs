//! The streamed output path (each run reads the trace itself, spools its records, and the
//! tables are written from the spools) writes the same bytes as the in-memory path.

mod common;

use simulator::output::{self, RunRecorder, RunSummary, StreamedRun, Summary};
use simulator::scenario;
use std::path::Path;

const SCENARIO: &str = "
name: streamed
seed: 5
trace:
  generate: { pattern: diurnal, duration: 10m, rate: 10, period: 10m, amplitude: 0.8 }
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
      metadata: { name: kpa }
      spec:
        scaleTargetRef: { kind: Deployment, name: llm }
        minReplicas: 0
        maxReplicas: 6
        scalingStrategy: KPA
        metricsSources:
          - metricSourceType: inferenceEngine
            targetMetric: num_requests_running
            targetValue: '8'
            inferenceEngineConfig: { engineType: vllm }
  - static: { replicas: 1 }
  - oracle: { max_iterations: 2 }
";

fn in_memory(dir: &Path) {
    common::simulate_in_memory(SCENARIO, dir, dir);
}

fn streamed(dir: &Path) {
    let scenario = scenario::parse(SCENARIO, &dir.join("scenario.yaml"), None).unwrap();
    let mut runs = Vec::new();
    let mut trace_requests = 0;
    for index in 0..scenario.scalers.len() {
        let mut recorder = RunRecorder::create(dir, index, &scenario.slo).unwrap();
        let (run, stats) = scenario::run_streamed(&scenario, index, &mut recorder).unwrap();
        trace_requests = stats.requests;
        runs.push(StreamedRun {
            run,
            recorded: recorder.finish().unwrap(),
        });
    }
    let summaries = runs
        .iter()
        .map(|r| RunSummary::of_stats(&r.run.result, &r.recorded.stats, r.run.note.clone()))
        .collect();
    let summary = Summary::of_summaries(
        &scenario.name,
        scenario.seed,
        trace_requests,
        &scenario.slo,
        summaries,
        0.0,
    );
    output::write_streamed_folder(dir, &summary, runs, &scenario.slo).unwrap();
}

#[test]
fn streamed_and_in_memory_folders_are_byte_identical() {
    let (a, b) = (
        common::fresh_dir("stream-folder", "memory"),
        common::fresh_dir("stream-folder", "stream"),
    );
    in_memory(&a);
    streamed(&b);
    let table = |name: &str| format!("{name}.{}", output::TABLE_EXTENSION);
    for file in [
        "summary.json".to_string(),
        "decisions.jsonl".to_string(),
        table("requests"),
        table("timeseries"),
        table("slo_timeseries"),
        table("latency_cdf"),
    ] {
        let left = std::fs::read(a.join(&file)).unwrap();
        let right = std::fs::read(b.join(&file)).unwrap();
        assert!(!left.is_empty(), "{file} is written");
        assert!(left == right, "{file} differs between the two paths");
    }
    let leftovers: Vec<_> = std::fs::read_dir(&b)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".spool"))
        .collect();
    assert!(leftovers.is_empty(), "spools left: {leftovers:?}");
    std::fs::remove_dir_all(&a).unwrap();
    std::fs::remove_dir_all(&b).unwrap();
}
