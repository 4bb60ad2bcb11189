//! Requests simulated per second (one core) by the fleet loop: an Azure-conversation-
//! shaped load scaled 20x (Poisson arrivals at 108 req/s, Azure conv token lengths,
//! one hour, about 390k requests) on H100 replicas serving Llama-3.1-8B under the HPA
//! and KPA manifests of `scenarios/scalers/` with `maxReplicas` raised to 50. Every replica
//! is scraped through Prometheus text before each engine tick (every 15 s for HPA, 2 s for
//! KPA), as in every fleet run (keeping the families the manifest reads;
//! `scrape_one_replica_*` time one replica's scrape).
//!
//! `FLEET_BENCH_SECONDS` shortens the trace (default 3600).

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use engine::spec::BudAIScaler;
use simulator::Catalog;
use simulator::fleet::{FleetConfig, ScalerSpec, Slo, run};
use std::hint::black_box;
use std::time::Duration;
use traces::generate::{GenerateConfig, Pattern, TokenModel, generate};
use traces::request::Request;

const RATE_RPS: f64 = 5.4 * 20.0;

fn requests() -> Vec<Request> {
    let seconds: i64 = std::env::var("FLEET_BENCH_SECONDS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(3600);
    generate(&GenerateConfig {
        pattern: Pattern::Poisson,
        duration_us: seconds * 1_000_000,
        rate_rps: RATE_RPS,
        seed: 42,
        tokens: TokenModel::azure_conv(),
    })
    .expect("valid generator config")
    .collect()
}

/// A manifest of `scenarios/scalers/` with `maxReplicas` raised to 50.
fn up_to_50(name: &str) -> ScalerSpec {
    let path = format!(
        "{}/../scenarios/scalers/{name}.yaml",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).expect("a scenarios/scalers manifest");
    let mut manifest: BudAIScaler = serde_saphyr::from_str(&text).expect("valid manifest");
    manifest.spec.max_replicas = Some(50);
    ScalerSpec::Manifest(Box::new(manifest))
}

fn fleet(c: &mut Criterion) {
    let requests = requests();
    let catalog = Catalog::builtin();
    let config = FleetConfig {
        initial_replicas: 4,
        ..FleetConfig::default()
    };
    let slo = Slo::default();
    let mut group = c.benchmark_group("fleet");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(requests.len() as u64));
    // HPA on queue length swings between a few overloaded replicas and 50 (large
    // batches are the replica model's costliest case); KPA on concurrency keeps the
    // fleet sized to the load.
    for name in ["hpa", "kpa"] {
        let scaler = up_to_50(name);
        let probe = run(&requests, &catalog, &config, &scaler, &slo, 7).expect("runs");
        eprintln!(
            "fleet bench {name}: {} requests, peak {} replicas, mean {:.1}, {} decisions, {:.1} GPU-hours",
            requests.len(),
            probe.peak_replicas,
            probe.mean_replicas,
            probe.decisions.len(),
            probe.gpu_hours
        );
        group.bench_function(format!("azure_conv_x20_{name}_h100"), |b| {
            b.iter(|| black_box(run(&requests, &catalog, &config, &scaler, &slo, 7).expect("runs")))
        });
    }
    group.finish();
}

/// One replica's scrape as the loop takes it: vLLM and DCGM families built, rendered to
/// text and parsed back.
fn scrape(c: &mut Criterion) {
    use simulator::fleet::exporter::{self, Gauges, GpuReading, ServerCounters};
    use traces::metrics::prometheus::{parse_text, render_text};
    let mut counters = ServerCounters::default();
    for i in 0..1000 {
        counters.ttft.observe(f64::from(i) * 0.003, 1);
        counters.itl.observe(f64::from(i) * 0.0002, 200);
    }
    let gauges = Gauges {
        running: 37,
        waiting: 2,
        kv_usage: 0.4321,
    };
    let reading = GpuReading {
        utilization_pct: 87.0,
        fb_used_mib: 73_000.0,
        fb_free_mib: 8_000.0,
        power_watts: 620.5,
        tensor_active: 0.25,
    };
    c.bench_function("fleet/scrape_one_replica_full", |b| {
        b.iter(|| {
            let engine = exporter::vllm_scrape("llama-3.1-8b", gauges, &counters, |_| true);
            let gpu = exporter::dcgm_scrape("llm-7", "node-7", "h100-80gb", 1, reading);
            black_box((
                parse_text(&render_text(&engine)).expect("parses"),
                parse_text(&render_text(&gpu)).expect("parses"),
            ))
        })
    });
    // What the HPA manifest reads: `vllm:num_requests_waiting` only.
    c.bench_function("fleet/scrape_one_replica_hpa", |b| {
        b.iter(|| {
            let engine = exporter::vllm_scrape("llama-3.1-8b", gauges, &counters, |name| {
                name == "vllm:num_requests_waiting"
            });
            black_box(parse_text(&render_text(&engine)).expect("parses"))
        })
    });
}

criterion_group!(benches, scrape, fleet);
criterion_main!(benches);
