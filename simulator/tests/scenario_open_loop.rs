//! `trace.mode: open_loop`: a recorded series goes straight to the scalers, and the
//! output is what each would have decided at every tick.

mod common;

use simulator::open_loop::{self, OpenLoopSummary};
use simulator::scenario::{self, Scenario};

/// 120 one-second samples of one vLLM server: idle for a minute, then 20 requests
/// waiting.
fn recording(dir: &std::path::Path) {
    let mut csv = String::from("t,prompt_throughput,gen_throughput,running,waiting,kv_cache_pct\n");
    for t in 1..=120 {
        let waiting = if t > 60 { 20 } else { 0 };
        csv.push_str(&format!("{t}.0,1000.0,200.0,4,{waiting},30.0\n"));
    }
    std::fs::write(dir.join("timeseries.csv"), csv).unwrap();
}

fn scenario(dir: &std::path::Path, scalers: &str) -> Result<Scenario, scenario::ScenarioError> {
    let yaml = format!(
        "name: open
trace:
  series: timeseries.csv
  mode: open_loop
fleet: {{ gpu: rtx-4090, model: llama-3.1-8b, price_per_gpu_hour: 0.4, sync_period: 10s }}
slo: {{ ttft_s: 2, tpot_s: 0.1 }}
scalers:
{scalers}
"
    );
    scenario::parse(&yaml, &dir.join("scenario.yaml"), None)
}

const HPA: &str = "  - manifest:
      apiVersion: scaler.bud.studio/v1alpha1
      kind: BudAIScaler
      metadata: { name: hpa }
      spec:
        scaleTargetRef: { kind: Deployment, name: llm }
        minReplicas: 1
        maxReplicas: 10
        scalingStrategy: HPA
        metricsSources:
          - metricSourceType: inferenceEngine
            targetMetric: num_requests_waiting
            targetValue: '4'
            inferenceEngineConfig: { engineType: vllm }";

#[test]
fn every_tick_of_the_recording_gets_a_decision() {
    let dir = common::fresh_dir("open-loop", "ticks");
    recording(&dir);
    let scenario = scenario(&dir, HPA).unwrap();
    assert!(scenario.is_open_loop());
    let recorded = open_loop::read_recording(&scenario).unwrap();
    assert_eq!(recorded.scrapes, 120);
    assert_eq!(recorded.scrape_interval_us, 1_000_000);
    let runs = open_loop::run(&scenario, &recorded).unwrap();
    assert_eq!(runs.len(), 1);
    let decisions = &runs[0].decisions;
    // Ticks every 10 s from 10 s to the last scrape, 119 s after the first.
    let times: Vec<i64> = decisions.iter().map(|d| d.time_us / 1_000_000).collect();
    assert_eq!(times, (1..=11).map(|k| k * 10).collect::<Vec<_>>());
    assert!(runs[0].recorded_replicas.iter().all(|&n| n == 1));
    assert_eq!(
        decisions[0].decision.current_replicas, 1,
        "starts at the recorded count"
    );
    for pair in decisions.windows(2) {
        assert_eq!(
            pair[1].decision.current_replicas, pair[0].decision.desired_replicas,
            "current is what the scaler last asked for"
        );
    }
    let before = decisions.iter().find(|d| d.time_us == 50_000_000).unwrap();
    assert_eq!(before.decision.desired_replicas, 1, "idle: stays at one");
    let after = decisions.iter().find(|d| d.time_us == 70_000_000).unwrap();
    assert!(
        after.decision.desired_replicas > 1,
        "20 waiting against a target of 4 scales up: {}",
        after.decision.message
    );

    let summary = OpenLoopSummary::of(&scenario, &recorded, &runs, 0.0);
    assert_eq!(summary.runs[0].decisions, 11);
    assert!(summary.runs[0].would_scale >= 1);
    let out = dir.join("out");
    open_loop::write_folder(&out, &summary, &runs).unwrap();
    let lines = std::fs::read_to_string(out.join("decisions.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 11);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(json["mode"], "open_loop");
    assert_eq!(json["runs"][0]["scaler"], "hpa");
}

#[test]
fn only_manifest_scalers_replay_open_loop() {
    let dir = common::fresh_dir("open-loop", "static");
    recording(&dir);
    let error = scenario(&dir, "  - static: { replicas: 2 }").unwrap_err();
    assert_eq!(error.field(), Some("scalers[0]"), "{error}");
}

#[test]
fn a_window_keeps_part_of_the_recording() {
    let dir = common::fresh_dir("open-loop", "window");
    recording(&dir);
    let yaml_scenario = scenario(&dir, HPA).unwrap();
    let mut windowed = yaml_scenario.clone();
    windowed.trace.window = Some((60_000_000, 120_000_000));
    let recorded = open_loop::read_recording(&windowed).unwrap();
    assert_eq!(recorded.scrapes, 60);
    let runs = open_loop::run(&windowed, &recorded).unwrap();
    assert!(
        runs[0].decisions[0].decision.desired_replicas > 1,
        "busy from the start"
    );
}
