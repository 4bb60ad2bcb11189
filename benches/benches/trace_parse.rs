//! Parse throughput of the streaming CSV reader on an Azure-shaped file of about 50 MB
//! (target: at least 200 MB/s). The file is generated deterministically in a temp dir.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::io::Write;
use std::path::PathBuf;
use traces::{ReadOptions, open};

const TARGET_BYTES: u64 = 50 * 1024 * 1024;

/// Writes `TIMESTAMP,ContextTokens,GeneratedTokens` rows about 0.19 s apart with token
/// counts from a fixed linear congruential sequence, so every run parses the same bytes.
fn write_azure_shaped(path: &PathBuf) -> u64 {
    let file = std::fs::File::create(path).expect("create bench file");
    let mut out = std::io::BufWriter::new(file);
    writeln!(out, "TIMESTAMP,ContextTokens,GeneratedTokens").expect("write");
    let mut state: u64 = 0x2545_F491_4F6C_DD1D;
    let mut micros: u64 = 0;
    let mut written: u64 = 0;
    while written < TARGET_BYTES {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        micros += 100_000 + (state >> 40) % 180_000;
        let seconds = micros / 1_000_000;
        let (day, hour, minute, second) = (
            1 + seconds / 86_400 % 28,
            seconds / 3600 % 24,
            seconds / 60 % 60,
            seconds % 60,
        );
        let line = format!(
            "2023-11-{day:02} {hour:02}:{minute:02}:{second:02}.{:06}0,{},{}\n",
            micros % 1_000_000,
            (state >> 20) % 8000,
            (state >> 50) % 700
        );
        out.write_all(line.as_bytes()).expect("write");
        written += line.len() as u64;
    }
    out.flush().expect("flush");
    std::fs::metadata(path).expect("stat").len()
}

fn parse(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("traces-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("azure.csv");
    let bytes = write_azure_shaped(&path);
    let mut group = c.benchmark_group("parse");
    group.throughput(Throughput::Bytes(bytes));
    group.sample_size(10);
    group.bench_function("azure_csv_50mb", |b| {
        b.iter(|| {
            let reader = open(&path, &ReadOptions::default()).expect("open");
            let mut count = 0u64;
            for request in reader {
                count += u64::from(request.expect("row").prompt_tokens > 0);
            }
            count
        })
    });
    group.finish();
    std::fs::remove_dir_all(&dir).ok();
}

criterion_group!(benches, parse);
criterion_main!(benches);
