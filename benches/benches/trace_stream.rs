//! Streaming a large generated trace: generation itself (requests/s), and reading the
//! same trace back from canonical CSV through the auto-detecting reader (requests/s).
//! Both stream: memory stays bounded by one record, whatever the trace length.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use traces::generate::{GenerateConfig, Pattern, TokenModel, generate};
use traces::{ReadOptions, open, write_canonical};

/// One hour at a mean of 300 req/s on the diurnal shape (its quiet first hour: ≈ 650k
/// requests), Azure-conversation token sizes.
fn config() -> GenerateConfig {
    let duration_us = 3_600_000_000;
    GenerateConfig {
        pattern: Pattern::with_defaults("diurnal", 300.0, duration_us).expect("known pattern"),
        duration_us,
        rate_rps: 300.0,
        seed: 7,
        tokens: TokenModel::azure_conv(),
    }
}

fn streaming(c: &mut Criterion) {
    let requests = generate(&config()).expect("valid config").count() as u64;
    let mut group = c.benchmark_group("trace_stream");
    group.sample_size(10);
    group.throughput(Throughput::Elements(requests));
    group.bench_function("generate_1h_300rps", |b| {
        b.iter(|| black_box(generate(&config()).unwrap().count()))
    });
    let path = std::env::temp_dir().join("budscaler-bench-stream.csv");
    write_canonical(&path, generate(&config()).unwrap().map(Ok)).expect("write bench trace");
    group.bench_function("read_canonical_csv", |b| {
        b.iter(|| {
            let reader = open(&path, &ReadOptions::default()).unwrap();
            black_box(reader.map(|r| r.unwrap().output_tokens as u64).sum::<u64>())
        })
    });
    group.finish();
    let _ = std::fs::remove_file(&path);
}

criterion_group!(benches, streaming);
criterion_main!(benches);
