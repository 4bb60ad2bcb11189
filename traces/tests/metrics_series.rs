//! Recorded metric series: JSONL, `.prom` directories and vLLM `timeseries.csv`.

use std::path::{Path, PathBuf};
use traces::metrics::series::{self, SeriesError, SeriesFormat};
use traces::metrics::signals::{ModelServer, Signal, find};

/// A fresh scratch directory under cargo's per-target temp dir.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("metrics_series")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn recording_csv() -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/vllm-recordings/rtx4090-llama-3.1-8b/timeseries.csv");
    if path.exists() {
        Some(path)
    } else {
        eprintln!(
            "SKIP: {} is absent (shared data not laid out)",
            path.display()
        );
        None
    }
}

#[test]
fn jsonl_with_t_us_time_and_targets() {
    let dir = scratch("jsonl");
    let path = dir.join("scrapes.jsonl");
    let lines = [
        r#"{"t_us": 1000000, "target": "pod-a", "text": "vllm:num_requests_waiting 3\n"}"#,
        "",
        r#"{"time": "2024-08-21T00:00:01.5Z", "text": "vllm:num_requests_waiting 4\n", "status": 200}"#,
    ];
    std::fs::write(&path, lines.join("\n")).unwrap();
    assert_eq!(SeriesFormat::detect(&path).unwrap(), SeriesFormat::Jsonl);
    let points = series::read_all(&path).unwrap();
    assert_eq!(points.len(), 2);
    assert_eq!(points[0].t_us, 1_000_000);
    assert_eq!(points[0].target.as_deref(), Some("pod-a"));
    assert_eq!(points[1].t_us, 1_724_198_401_500_000);
    assert_eq!(points[1].target, None);
    assert_eq!(
        find(&points[1].scrape, ModelServer::Vllm, Signal::QueueLength),
        Some(4.0)
    );
}

#[test]
fn jsonl_errors_name_file_and_line() {
    let dir = scratch("jsonl_errors");
    let path = dir.join("bad.jsonl");
    std::fs::write(
        &path,
        "{\"t_us\": 1, \"text\": \"m 1\\n\"}\n{\"text\": \"m 1\\n\"}\n",
    )
    .unwrap();
    let err = series::read_all(&path).unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(err, SeriesError::Line { line: 2, .. }),
        "{message}"
    );
    assert!(
        message.contains("bad.jsonl:2") && message.contains("t_us"),
        "{message}"
    );

    std::fs::write(&path, "{\"t_us\": 1, \"text\": \"ok 1\\nbad{ 1\\n\"}\n").unwrap();
    let message = series::read_all(&path).unwrap_err().to_string();
    assert!(
        message.contains("bad.jsonl:1") && message.contains("line 2"),
        "{message}"
    );
}

#[test]
fn prom_directory_sorted_by_time_with_targets() {
    let dir = scratch("promdir");
    std::fs::write(dir.join("1724198402.prom"), "m 2\n").unwrap();
    std::fs::write(dir.join("1724198400.250.prom"), "m 1\n").unwrap();
    std::fs::write(dir.join("notes.txt"), "ignored").unwrap();
    std::fs::create_dir(dir.join("pod-b")).unwrap();
    std::fs::write(dir.join("pod-b").join("2024-08-21T00-00-01Z.prom"), "m 5\n").unwrap();
    let points = series::read_all(&dir).unwrap();
    let summary: Vec<(i64, Option<&str>, Option<f64>)> = points
        .iter()
        .map(|p| (p.t_us, p.target.as_deref(), p.scrape.gauge("m", &[])))
        .collect();
    assert_eq!(
        summary,
        vec![
            (1_724_198_400_250_000, None, Some(1.0)),
            (1_724_198_401_000_000, Some("pod-b"), Some(5.0)),
            (1_724_198_402_000_000, None, Some(2.0)),
        ]
    );

    std::fs::write(dir.join("yesterday.prom"), "m 1\n").unwrap();
    let message = series::open(&dir)
        .err()
        .expect("a bad file name must fail")
        .to_string();
    assert!(
        message.contains("yesterday.prom") && message.contains("epoch seconds"),
        "{message}"
    );
}

#[test]
fn vllm_timeseries_csv_becomes_vllm_scrapes() {
    let Some(path) = recording_csv() else { return };
    let points = series::read_all(&path).unwrap();
    assert_eq!(points.len(), 184);
    let first = &points[0];
    assert_eq!(first.t_us, 1_000_000);
    // Row "1.0,3392.0,2.0,5,2,13.22".
    let scrape = &first.scrape;
    assert_eq!(
        find(scrape, ModelServer::Vllm, Signal::RunningRequests),
        Some(5.0)
    );
    assert_eq!(
        find(scrape, ModelServer::Vllm, Signal::QueueLength),
        Some(2.0)
    );
    let kv = find(scrape, ModelServer::Vllm, Signal::KvCacheUsage).unwrap();
    assert!((kv - 0.1322).abs() < 1e-12);
    assert_eq!(
        find(scrape, ModelServer::Vllm, Signal::PromptTokensTotal),
        Some(3392.0)
    );
    assert_eq!(
        scrape.gauge(
            "vllm:num_requests_running",
            &[("model_name", "meta-llama/Llama-3.1-8B")]
        ),
        Some(5.0)
    );
    // Counters integrate the throughputs: the second row adds 9045 prompt tokens.
    assert_eq!(
        find(
            &points[1].scrape,
            ModelServer::Vllm,
            Signal::PromptTokensTotal
        ),
        Some(3392.0 + 9045.0)
    );
}

#[test]
fn vllm_csv_errors_name_line_and_column() {
    let dir = scratch("csv");
    let path = dir.join("timeseries.csv");
    std::fs::write(&path, "t,prompt_throughput,gen_throughput,running,waiting,kv_cache_pct\n1,2,3,4,5,6\n2,x,3,4,5,6\n")
        .unwrap();
    let message = series::read_all(&path).unwrap_err().to_string();
    assert!(
        message.contains("timeseries.csv:3") && message.contains("prompt_throughput"),
        "{message}"
    );
    std::fs::write(&path, "t,running\n1,2\n").unwrap();
    let message = series::open(&path)
        .err()
        .expect("missing columns must fail")
        .to_string();
    assert!(
        message.contains(":1") && message.contains("prompt_throughput"),
        "{message}"
    );
}
