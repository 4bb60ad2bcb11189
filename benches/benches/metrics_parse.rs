//! Prometheus text parsing throughput on a vLLM-like scrape (gauges, counters and
//! histograms with labels, as one replica exports), the operator's hot path.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::fmt::Write;
use std::hint::black_box;

/// One scrape of `replicas` engines: the families a vLLM v1 server exports.
fn vllm_scrape(replicas: usize) -> String {
    let mut text = String::new();
    let gauges = [
        "vllm:num_requests_running",
        "vllm:num_requests_waiting",
        "vllm:kv_cache_usage_perc",
    ];
    for name in gauges {
        writeln!(text, "# HELP {name} A gauge.\n# TYPE {name} gauge").unwrap();
        for r in 0..replicas {
            writeln!(
                text,
                "{name}{{engine=\"{r}\",model_name=\"meta-llama/Llama-3.1-8B\"}} {}",
                r as f64 * 0.37
            )
            .unwrap();
        }
    }
    for name in ["vllm:prompt_tokens_total", "vllm:generation_tokens_total"] {
        writeln!(text, "# HELP {name} A counter.\n# TYPE {name} counter").unwrap();
        for r in 0..replicas {
            writeln!(
                text,
                "{name}{{engine=\"{r}\",model_name=\"meta-llama/Llama-3.1-8B\"}} {}",
                1e6 + r as f64
            )
            .unwrap();
        }
    }
    let name = "vllm:time_to_first_token_seconds";
    writeln!(text, "# HELP {name} A histogram.\n# TYPE {name} histogram").unwrap();
    let buckets = [
        "0.001", "0.005", "0.01", "0.02", "0.04", "0.06", "0.08", "0.1", "0.25", "0.5", "0.75",
        "1.0", "2.5", "5.0", "7.5", "10.0", "20.0", "40.0", "80.0", "+Inf",
    ];
    for r in 0..replicas {
        for (i, le) in buckets.iter().enumerate() {
            writeln!(text, "{name}_bucket{{engine=\"{r}\",le=\"{le}\",model_name=\"meta-llama/Llama-3.1-8B\"}} {}", i * 10).unwrap();
        }
        writeln!(
            text,
            "{name}_sum{{engine=\"{r}\",model_name=\"meta-llama/Llama-3.1-8B\"}} 1234.5"
        )
        .unwrap();
        writeln!(
            text,
            "{name}_count{{engine=\"{r}\",model_name=\"meta-llama/Llama-3.1-8B\"}} 190"
        )
        .unwrap();
    }
    text
}

fn parse(c: &mut Criterion) {
    let text = vllm_scrape(64);
    let mut group = c.benchmark_group("prometheus");
    group.throughput(Throughput::Bytes(text.len() as u64));
    group.bench_function("parse_vllm_scrape", |b| {
        b.iter(|| black_box(traces::metrics::prometheus::parse_text(black_box(&text)).unwrap()))
    });
    group.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
