//! Writing the canonical format and reading it back gives the same requests: CSV, gzip CSV
//! and (with the `parquet` feature) Parquet.

use proptest::prelude::*;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use traces::{ReadOptions, Request, TraceFormat, open, write_canonical};

fn temp_file(name: &str) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "traces-roundtrip-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn label() -> impl Strategy<Value = Option<String>> {
    proptest::option::of("[ -~é☃\n]{1,8}")
}

fn requests() -> impl Strategy<Value = Vec<Request>> {
    let one = (
        0i64..5_000_000,
        0u32..=10_000_000,
        0u32..=10_000_000,
        proptest::collection::vec(any::<u64>(), 0..5),
        label(),
        label(),
        proptest::option::of(any::<i32>()),
        any::<bool>(),
    );
    proptest::collection::vec(one, 0..40).prop_map(|rows| {
        let mut arrival_us = 0;
        rows.into_iter()
            .map(
                |(gap, prompt, output, blocks, tenant, model, priority, failed)| {
                    arrival_us += gap;
                    Request {
                        arrival_us,
                        prompt_tokens: prompt,
                        output_tokens: output,
                        prefix_blocks: blocks,
                        tenant,
                        model,
                        priority,
                        failed,
                    }
                },
            )
            .collect()
    })
}

fn round_trip(name: &str, requests: &[Request]) -> Vec<Request> {
    let path = temp_file(name);
    let written = write_canonical(&path, requests.iter().cloned().map(Ok)).unwrap();
    assert_eq!(written, requests.len() as u64);
    let reader = open(&path, &ReadOptions::default()).unwrap();
    assert_eq!(reader.format(), TraceFormat::Canonical);
    let back = reader.collect::<Result<Vec<_>, _>>().unwrap();
    std::fs::remove_dir_all(path.parent().unwrap()).unwrap();
    back
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn canonical_csv_round_trips(requests in requests()) {
        prop_assert_eq!(round_trip("t.csv", &requests), requests);
    }

    #[test]
    fn canonical_csv_gz_round_trips(requests in requests()) {
        prop_assert_eq!(round_trip("t.csv.gz", &requests), requests);
    }
}

#[cfg(feature = "parquet")]
proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn canonical_parquet_round_trips(requests in requests()) {
        prop_assert_eq!(round_trip("t.parquet", &requests), requests);
    }
}

#[cfg(feature = "parquet")]
#[test]
fn parquet_spans_several_row_groups() {
    let requests: Vec<Request> = (0..150_000)
        .map(|i| Request {
            arrival_us: i * 10,
            prompt_tokens: (i % 5000) as u32,
            output_tokens: (i % 300) as u32,
            prefix_blocks: if i % 7 == 0 {
                vec![i as u64, 1]
            } else {
                Vec::new()
            },
            tenant: (i % 3 == 0).then(|| "t".to_string()),
            model: None,
            priority: None,
            failed: i % 11 == 0,
        })
        .collect();
    assert_eq!(round_trip("big.parquet", &requests), requests);
}

#[cfg(not(feature = "parquet"))]
#[test]
fn parquet_without_the_feature_is_a_clear_error() {
    let path = temp_file("t.parquet");
    let error = write_canonical(&path, std::iter::empty())
        .unwrap_err()
        .to_string();
    assert!(error.contains("enable the `parquet` feature"), "{error}");
    assert!(!path.exists());
}

#[test]
fn unknown_output_extension_is_rejected() {
    let path = temp_file("t.xlsx");
    let error = write_canonical(&path, std::iter::empty())
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("expected a file name ending in .csv, .csv.gz or .parquet"),
        "{error}"
    );
}

#[test]
fn a_failed_conversion_leaves_no_file() {
    let path = temp_file("t.csv");
    let items = vec![
        Ok(Request {
            arrival_us: 0,
            prompt_tokens: 1,
            output_tokens: 1,
            prefix_blocks: Vec::new(),
            tenant: None,
            model: None,
            priority: None,
            failed: false,
        }),
        Err(traces::TraceError::Empty {
            at: traces::Location::new("in.csv", 1),
        }),
    ];
    assert!(write_canonical(&path, items.into_iter()).is_err());
    assert!(!path.exists());
    assert!(
        std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .next()
            .is_none()
    );
}

#[test]
fn converting_the_real_azure_trace_keeps_every_request() {
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/azure-llm-2023/AzureLLMInferenceTrace_code.csv");
    if !source.exists() {
        eprintln!("skipping: {} is absent", source.display());
        return;
    }
    let original: Vec<Request> = open(&source, &ReadOptions::default())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(round_trip("code.csv.gz", &original), original);
}
