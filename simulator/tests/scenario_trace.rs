//! A scenario's requests: generated traces (so a scenario runs on a fresh clone with no
//! data files), trace files relative to the scenario, and the reshaping knobs.

mod common;

use simulator::scenario::{self, Scenario};
use std::path::Path;

fn scenario_with_trace(dir: &Path, trace: &str, seed: Option<u64>) -> Scenario {
    let yaml = format!(
        "name: t
seed: 5
trace:
{trace}
fleet: {{ gpu: h100-80gb, model: llama-3.1-8b, price_per_gpu_hour: 2 }}
slo: {{ ttft_s: 2, tpot_s: 0.1 }}
scalers:
  - static: {{ replicas: 1 }}
"
    );
    scenario::parse(&yaml, &dir.join("scenario.yaml"), seed).unwrap()
}

#[test]
fn a_generated_trace_is_seeded_and_has_the_asked_rate() {
    let dir = common::fresh_dir("scenario-trace", "generate");
    let trace = "  generate: { pattern: poisson, duration: 10m, rate: 4 }";
    let first = scenario_with_trace(&dir, trace, None).requests().unwrap();
    let again = scenario_with_trace(&dir, trace, None).requests().unwrap();
    assert_eq!(first, again, "same scenario, same requests");
    let expected = 4.0 * 600.0;
    assert!(
        (first.len() as f64 - expected).abs() < 5.0 * expected.sqrt(),
        "{} requests for {expected} expected",
        first.len()
    );
    assert!(first.iter().all(|r| r.arrival_us < 600_000_000));
    assert!(first.windows(2).all(|w| w[0].arrival_us <= w[1].arrival_us));

    let other_seed = scenario_with_trace(&dir, trace, Some(6))
        .requests()
        .unwrap();
    assert_ne!(
        first, other_seed,
        "--seed reseeds a trace without its own seed"
    );
    let fixed = "  generate: { pattern: poisson, duration: 10m, rate: 4, seed: 5 }";
    assert_eq!(
        scenario_with_trace(&dir, fixed, Some(6))
            .requests()
            .unwrap(),
        first,
        "generate.seed pins the trace"
    );
}

#[test]
fn pattern_knobs_and_token_models_apply() {
    let dir = common::fresh_dir("scenario-trace", "knobs");
    let fixed = scenario_with_trace(
        &dir,
        "  generate: { pattern: step, duration: 4m, rate: 2, step_at: 1m, factor: 3, tokens: 'fixed:100,20' }",
        None,
    )
    .requests()
    .unwrap();
    assert!(
        fixed
            .iter()
            .all(|r| (r.prompt_tokens, r.output_tokens) == (100, 20))
    );
    let before = fixed.iter().filter(|r| r.arrival_us < 60_000_000).count() as f64;
    let after = fixed.len() as f64 - before;
    assert!(
        after / 3.0 > 2.0 * before,
        "rate ×3 after the step: {before} then {after}"
    );
}

#[test]
fn window_scale_and_max_requests_reshape_in_that_order() {
    let dir = common::fresh_dir("scenario-trace", "reshape");
    let base = "  generate: { pattern: poisson, duration: 10m, rate: 5, seed: 1 }";
    let all = scenario_with_trace(&dir, base, None).requests().unwrap();
    let windowed = scenario_with_trace(
        &dir,
        &format!("{base}\n  window: {{ from: 2m, to: 4m }}\n  rate_scale: 2\n  max_requests: 100"),
        None,
    )
    .requests()
    .unwrap();
    let expected: Vec<i64> = all
        .iter()
        .filter(|r| (120_000_000..240_000_000).contains(&r.arrival_us))
        .take(100)
        .map(|r| ((r.arrival_us - 120_000_000) as f64 * 0.5).round() as i64)
        .collect();
    let got: Vec<i64> = windowed.iter().map(|r| r.arrival_us).collect();
    assert_eq!(got, expected);
}

#[test]
fn a_trace_file_is_read_relative_to_the_scenario() {
    let dir = common::fresh_dir("scenario-trace", "file");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(
        dir.join("data/trace.csv"),
        "TIMESTAMP,ContextTokens,GeneratedTokens\n\
         2023-11-16 18:15:46.6805900,374,44\n\
         2023-11-16 18:15:50.9951690,396,109\n\
         2023-11-16 18:15:51.1134420,879,34\n",
    )
    .unwrap();
    let requests = scenario_with_trace(&dir, "  path: data/trace.csv\n  format: azure", None)
        .requests()
        .unwrap();
    let arrivals: Vec<i64> = requests.iter().map(|r| r.arrival_us).collect();
    assert_eq!(arrivals, [0, 4_314_579, 4_432_852]);
    assert_eq!(requests[2].prompt_tokens, 879);

    let missing = scenario_with_trace(&dir, "  path: data/none.csv", None)
        .requests()
        .unwrap_err();
    assert_eq!(missing.field(), Some("trace.path"));
    assert!(missing.to_string().contains("none.csv"), "{missing}");
}

#[test]
fn a_recorded_series_becomes_requests_in_closed_loop() {
    let dir = common::fresh_dir("scenario-trace", "series");
    let mut csv = String::from("t,prompt_throughput,gen_throughput,running,waiting,kv_cache_pct\n");
    for t in 1..=60 {
        csv.push_str(&format!("{t}.0,2000.0,400.0,8,0,20.0\n"));
    }
    std::fs::write(dir.join("timeseries.csv"), csv).unwrap();
    let scenario = scenario_with_trace(
        &dir,
        "  series: timeseries.csv\n  demand: { mean_prompt_tokens: 500 }",
        None,
    );
    assert!(!scenario.is_open_loop());
    let requests = scenario.requests().unwrap();
    // 2000 prompt tokens/s for 60 s at 500 tokens per request: about 240 requests.
    assert!((180..300).contains(&requests.len()), "{}", requests.len());
}

#[test]
fn an_empty_window_is_an_error_naming_the_trace() {
    let dir = common::fresh_dir("scenario-trace", "empty");
    let error = scenario_with_trace(
        &dir,
        "  generate: { pattern: poisson, duration: 1m, rate: 1 }\n  window: { from: 2m }",
        None,
    )
    .requests()
    .unwrap_err();
    assert_eq!(error.field(), Some("trace.generate"), "{error}");
}
