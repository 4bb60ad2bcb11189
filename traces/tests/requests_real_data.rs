//! `inspect` on the real traces in `../shared/data` (skipped with a message when absent).

use std::path::PathBuf;
use traces::{ReadOptions, TraceFormat, inspect, open};

fn data(relative: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data")
        .join(relative);
    if path.exists() {
        Some(path)
    } else {
        eprintln!("skipping: {} is absent", path.display());
        None
    }
}

#[test]
fn azure_conversation_trace() {
    let Some(path) = data("azure-llm-2023/AzureLLMInferenceTrace_conv.csv") else {
        return;
    };
    let report = inspect(&path, &ReadOptions::default()).unwrap();
    assert_eq!(report.format, "azure-llm-2023");
    assert_eq!(report.requests, 19_366);
    assert_eq!(report.start.as_deref(), Some("2023-11-16T18:15:46.680590Z"));
    // 19,366 requests from 18:15:46.68 to 19:14:08.40: 3501.7 s, 5.53 req/s (the data
    // README's "about 5.4" divides by the full hour).
    assert!(
        (report.duration_s - 3501.721937).abs() < 1e-6,
        "{}",
        report.duration_s
    );
    assert!(
        (5.3..5.6).contains(&report.mean_rate_rps),
        "{}",
        report.mean_rate_rps
    );
    assert!(report.peak_rate_rps_1m > report.mean_rate_rps);
    assert!(report.prompt_tokens.p50 > 0.0 && report.prompt_tokens.max >= report.prompt_tokens.p99);
    assert_eq!(report.sparkline.chars().count(), 59);
}

#[test]
fn azure_code_trace() {
    let Some(path) = data("azure-llm-2023/AzureLLMInferenceTrace_code.csv") else {
        return;
    };
    let report = inspect(&path, &ReadOptions::default()).unwrap();
    assert_eq!(report.format, "azure-llm-2023");
    assert_eq!(report.requests, 8_819);
    // 3435.9 s from first to last arrival: 2.57 req/s (2.45 over the full hour).
    assert!(
        (report.duration_s - 3435.948056).abs() < 1e-6,
        "{}",
        report.duration_s
    );
    assert!(
        (2.3..2.6).contains(&report.mean_rate_rps),
        "{}",
        report.mean_rate_rps
    );
    assert!(
        report
            .start
            .as_deref()
            .unwrap()
            .starts_with("2023-11-16T18:17:03.97996")
    );
}

#[test]
fn mooncake_trace() {
    let Some(path) = data("mooncake/synthetic_trace.jsonl") else {
        return;
    };
    let report = inspect(&path, &ReadOptions::default()).unwrap();
    assert_eq!(report.format, "mooncake");
    assert_eq!(report.requests, 3_993);
    assert_eq!(report.start, None);
    let first = open(&path, &ReadOptions::default())
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(first.prompt_tokens, 40_160);
    assert_eq!(first.prefix_blocks.len(), 79);
}

#[test]
fn vllm_recording_requests_and_folder() {
    let Some(dir) = data("vllm-recordings/rtx4090-llama-3.1-8b") else {
        return;
    };
    for path in [dir.join("requests.jsonl"), dir.clone()] {
        let report = inspect(&path, &ReadOptions::default()).unwrap();
        assert_eq!(report.format, "vllm-recording");
        assert_eq!(report.requests, 300);
        assert!(
            report
                .start
                .as_deref()
                .unwrap()
                .starts_with("2026-08-20T23:19:40")
        );
        assert!(
            (report.mean_rate_rps - 10.0).abs() < 1.0,
            "{}",
            report.mean_rate_rps
        );
        // 29 s of trace: no full minute, so the busiest minute is the whole trace.
        assert_eq!(report.peak_rate_rps_1m, report.mean_rate_rps);
    }
    let reader = open(&dir, &ReadOptions::default()).unwrap();
    assert_eq!(reader.format(), TraceFormat::VllmRecording);
}
