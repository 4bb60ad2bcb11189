//! Demand derived from recorded series: counter resets, vLLM recording, request counters.

use std::path::Path;
use traces::metrics::demand::{DeriveOptions, derive_requests};
use traces::metrics::prometheus::parse_text;
use traces::metrics::series::{self, ScrapePoint};

fn point(t_s: i64, target: &str, prompt: f64, generation: f64, success: f64) -> ScrapePoint {
    let text = format!(
        "vllm:prompt_tokens_total {prompt}\nvllm:generation_tokens_total {generation}\nvllm:request_success_total{{finished_reason=\"stop\"}} {success}\n"
    );
    ScrapePoint {
        t_us: t_s * 1_000_000,
        target: Some(target.to_string()),
        scrape: parse_text(&text).unwrap(),
    }
}

#[test]
fn request_counter_sets_count_and_sizes_and_resets_are_handled() {
    // Two pods, 10 s scrapes; pod-b restarts at t=30 (its counters drop).
    let mut points = Vec::new();
    for i in 0..=6i64 {
        let a = i as f64;
        points.push(point(10 * i, "pod-a", 50_000.0 * a, 5_000.0 * a, 100.0 * a));
        let b = if i < 3 { a } else { (i - 3) as f64 + 1.0 };
        points.push(point(10 * i, "pod-b", 50_000.0 * b, 5_000.0 * b, 100.0 * b));
    }
    let options = DeriveOptions {
        prompt_sigma: None,
        output_sigma: None,
        ..DeriveOptions::default()
    };
    let requests = derive_requests(points.clone().into_iter().map(Ok), &options, 7).unwrap();
    // 12 intervals x 100 requests, sizes exactly 500 / 50.
    let n = requests.len() as f64;
    assert!((n - 1200.0).abs() < 4.0 * 1200f64.sqrt(), "{n} requests");
    assert!(
        requests
            .iter()
            .all(|r| r.prompt_tokens == 500 && r.output_tokens == 50)
    );
    assert!(
        requests
            .windows(2)
            .all(|w| w[0].arrival_us <= w[1].arrival_us)
    );
    assert!(
        requests
            .iter()
            .all(|r| (0..60_000_000).contains(&r.arrival_us))
    );
    let again = derive_requests(points.clone().into_iter().map(Ok), &options, 7).unwrap();
    assert_eq!(requests, again);
    let other = derive_requests(points.into_iter().map(Ok), &options, 8).unwrap();
    assert_ne!(requests, other);
}

#[test]
fn vllm_recording_rebuilds_its_load() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/vllm-recordings/rtx4090-llama-3.1-8b");
    if !dir.exists() {
        eprintln!(
            "SKIP: {} is absent (shared data not laid out)",
            dir.display()
        );
        return;
    }
    // The true mean prompt length, from the recording's own request log.
    let log = std::fs::read_to_string(dir.join("requests.jsonl")).unwrap();
    let inputs: Vec<f64> = log
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["input_toks"]
                .as_f64()
                .unwrap()
        })
        .collect();
    let mean_prompt = inputs.iter().sum::<f64>() / inputs.len() as f64;
    let options = DeriveOptions::for_vllm_recording(mean_prompt);
    let requests = derive_requests(
        series::open(&dir.join("timeseries.csv")).unwrap(),
        &options,
        42,
    )
    .unwrap();
    let n = requests.len() as f64;
    eprintln!(
        "vLLM recording: {} real requests, {n} derived (mean prompt {mean_prompt:.0})",
        inputs.len()
    );
    assert!(
        (n - inputs.len() as f64).abs() < 0.2 * inputs.len() as f64,
        "{n} derived vs {}",
        inputs.len()
    );
    let prompt_mean = requests
        .iter()
        .map(|r| f64::from(r.prompt_tokens))
        .sum::<f64>()
        / n;
    assert!(
        (prompt_mean - mean_prompt).abs() < 0.25 * mean_prompt,
        "prompt mean {prompt_mean}"
    );
}

#[test]
fn a_series_without_token_counters_is_an_error() {
    let points = vec![Ok(ScrapePoint {
        t_us: 0,
        target: None,
        scrape: parse_text("up 1\n").unwrap(),
    })];
    let message = derive_requests(points, &DeriveOptions::default(), 1)
        .unwrap_err()
        .to_string();
    assert!(message.contains("vllm:prompt_tokens_total"), "{message}");
}
