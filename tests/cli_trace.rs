//! `budscaler trace inspect | convert | generate` as users and scripts see them.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn budscaler(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_budscaler"))
        .args(args)
        .output()
        .unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-trace-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn shared_data(relative: &str) -> Option<PathBuf> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data")
        .join(relative);
    if path.exists() {
        Some(path)
    } else {
        eprintln!(
            "skipped: {} is absent (download it as the README says)",
            path.display()
        );
        None
    }
}

fn inspect_json(path: &Path) -> Value {
    let output = budscaler(&[
        "trace",
        "inspect",
        path.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("inspect --format json prints one JSON document")
}

#[test]
fn inspect_json_has_the_contract_fields_on_every_real_trace() {
    let cases = [
        (
            "azure-llm-2023/AzureLLMInferenceTrace_conv.csv",
            "azure-llm-2023",
            19366,
        ),
        (
            "azure-llm-2023/AzureLLMInferenceTrace_code.csv",
            "azure-llm-2023",
            8819,
        ),
        ("mooncake/synthetic_trace.jsonl", "mooncake", 3993),
        (
            "vllm-recordings/rtx4090-llama-3.1-8b",
            "vllm-recording",
            300,
        ),
    ];
    for (relative, format, requests) in cases {
        let Some(path) = shared_data(relative) else {
            return;
        };
        let report = inspect_json(&path);
        assert_eq!(report["format"], format, "{relative}");
        assert_eq!(report["requests"], requests, "{relative}");
        for field in [
            "path",
            "start",
            "duration_s",
            "mean_rate_rps",
            "peak_rate_rps_1m",
        ] {
            assert!(report.get(field).is_some(), "{relative}: {field} missing");
        }
        for tokens in ["prompt_tokens", "output_tokens"] {
            for stat in ["mean", "p50", "p90", "p99", "max"] {
                assert!(
                    report[tokens][stat].is_number(),
                    "{relative}: {tokens}.{stat}"
                );
            }
        }
        let mean = report["mean_rate_rps"].as_f64().unwrap();
        assert!(
            report["peak_rate_rps_1m"].as_f64().unwrap() >= mean,
            "{relative}"
        );
    }
}

#[test]
fn generate_convert_inspect_round_trip_on_a_fresh_clone() {
    let dir = scratch("round-trip");
    let generate = |path: &Path| {
        let output = budscaler(&[
            "trace",
            "generate",
            "--pattern",
            "gamma",
            "--duration",
            "10m",
            "--rate",
            "4",
            "--seed",
            "7",
            path.to_str().unwrap(),
        ]);
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    };
    let csv = dir.join("gen.csv");
    generate(&csv);
    let generated = inspect_json(&csv);
    assert_eq!(generated["format"], "canonical");
    let n = generated["requests"].as_u64().unwrap();
    assert!(
        (2000..2800).contains(&n),
        "about 4 req/s for 600 s, got {n}"
    );

    let parquet = dir.join("gen.parquet");
    let output = budscaler(&[
        "trace",
        "convert",
        csv.to_str().unwrap(),
        parquet.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let converted = inspect_json(&parquet);
    for field in ["requests", "duration_s", "prompt_tokens", "output_tokens"] {
        assert_eq!(
            converted[field], generated[field],
            "{field} changed through Parquet"
        );
    }

    // Same seed, same bytes.
    let again = dir.join("again.csv");
    generate(&again);
    assert_eq!(std::fs::read(&csv).unwrap(), std::fs::read(&again).unwrap());
}

#[test]
fn bad_input_exits_2_naming_file_and_line() {
    let dir = scratch("bad");
    let file = dir.join("bad.csv");
    std::fs::write(
        &file,
        "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,abc,44\n",
    )
    .unwrap();
    let output = budscaler(&["trace", "inspect", file.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("bad.csv:2"), "{stderr}");
    assert!(stderr.contains("ContextTokens"), "{stderr}");

    let output = budscaler(&[
        "trace",
        "generate",
        "--duration",
        "soon",
        "--rate",
        "1",
        "x.csv",
    ]);
    assert_eq!(output.status.code(), Some(2));
}
